"""Every page in every language (AppTest): no exception, and no English sentence left on a
Chinese or Japanese page — the text of every element, widget and chart is collected and searched
for runs of English words (a string that misses the catalogue shows up here)."""
from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from apptest_kit import SAMPLES, no_trace

PAGES = ["home", "learn", "explore", "compare", "scale", "attribution", "models"]
TEXT_ELEMENTS = ["markdown", "caption", "info", "warning", "error", "success", "header", "subheader", "title",
                 "exception", "latex", "code"]
WIDGETS = ["selectbox", "radio", "checkbox", "number_input", "slider", "multiselect", "button", "text_input",
           "toggle", "select_slider", "expander", "tabs", "download_button", "popover"]
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]")
#: English words that only occur in sentences (not in names of models, classes or files).
FUNCTION_WORDS = {"the", "of", "and", "is", "are", "to", "in", "with", "for", "this", "that", "its", "on", "by",
                  "from", "not", "one", "each", "what", "how", "which", "here", "it", "be", "no", "or", "as",
                  "an", "at", "than", "more", "there", "these", "you", "your", "per", "over", "between"}
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[\s,;:]+[A-Za-z][A-Za-z'’-]*){3,}")
NOT_PROSE = [re.compile(p) for p in (
    r"`[^`]*`",                       # code: commands, file names
    r"\$[^$]*\$",                     # formulas
    r"https?://\S+",                  # links
    r"\[[^\]]*\]\([^)]*\)",           # markdown links' targets
    r"<[^>]+>",                       # HTML tags of hover templates
    r"\bSqueeze-and-Excitation(?: Networks)?\b", r"\bSelective Kernel(?: Networks)?\b",
    r"\bSplit[- ]Attention(?: Networks)?\b",
)]


def english_left(text: str) -> list[str]:
    """Runs of 4+ English words holding 2+ function words: a sentence that was not translated."""
    for pattern in NOT_PROSE:
        text = pattern.sub(" ", text)
    runs = []
    for run in ENGLISH_RUN.findall(text):
        words = [w.lower() for w in re.split(r"[\s,;:]+", run)]
        if sum(w in FUNCTION_WORDS for w in words) >= 2:
            runs.append(run)
    return runs


def chart_texts(spec: dict) -> list[str]:
    layout = spec.get("layout", {})
    texts = [layout.get("title", {}).get("text", "")]
    for key, axis in layout.items():
        if key.startswith(("xaxis", "yaxis")) and isinstance(axis, dict):
            texts.append((axis.get("title") or {}).get("text", ""))
    texts += [a.get("text", "") for a in layout.get("annotations", [])]
    for trace in spec.get("data", []):
        texts += [trace.get("name") or "", trace.get("hovertemplate") or "",
                  ((trace.get("colorbar") or {}).get("title") or {}).get("text", "")]
    return [t for t in texts if isinstance(t, str)]


def visible_texts(at: AppTest) -> list[str]:
    texts: list[str] = []
    for kind in TEXT_ELEMENTS:
        texts += [str(e.value) for e in at.get(kind)]
    for kind in WIDGETS:
        for w in at.get(kind):
            texts += [str(getattr(w, "label", "") or ""), str(getattr(w, "help", "") or "")]
            texts += [str(o) for o in (getattr(w, "options", None) or [])]
    for chart in at.get("plotly_chart"):
        texts += chart_texts(json.loads(chart.proto.spec))
    return [t for t in texts if t]


def run_page(app: AppTest, lang: str, page: str, model: str, samples_dir) -> AppTest:
    at = app
    at.query_params["lang"] = lang
    at.run()
    at.sidebar.selectbox(key="model").set_value(model)
    at.sidebar.multiselect(key="samples").set_value([str(samples_dir / s) for s in SAMPLES])
    at.run()
    return at.switch_page(f"attnviz/app/pages/{page}.py").run()


@pytest.mark.slow
@pytest.mark.parametrize("model", ["test_se", "test_sk"])
@pytest.mark.parametrize("lang", ["en", "zh", "ja"])
def test_every_page_runs_in_every_language(app, profiles, samples_dir, lang, model):  # noqa: ARG001  fixture: writes the profiles the app reads
    at = None
    for page in PAGES:
        at = run_page(app, lang, page, model, samples_dir) if at is None else at.switch_page(
            f"attnviz/app/pages/{page}.py").run()
        no_trace(at)
        texts = visible_texts(at)
        assert texts, page
        if lang != "en":
            assert any(CJK.search(t) for t in texts), page
            left = sorted({run for t in texts for run in english_left(t)})
            assert left == [], f"{page} ({lang}) shows English: {left}"


def test_the_sidebar_picker_puts_the_language_in_the_link(app):
    at = app.run()
    picker = at.sidebar.selectbox(key="language_picker")
    assert picker.value == "en" and picker.options == ["English", "中文", "日本語"]
    picker.set_value("ja").run()
    assert at.query_params["lang"] == ["ja"] or at.query_params["lang"] == "ja"
    assert at.sidebar.selectbox(key="language_picker").value == "ja"
    assert any(CJK.search(t) for t in visible_texts(at))


def test_attnviz_lang_sets_the_servers_default(app, monkeypatch):
    monkeypatch.setenv("ATTNVIZ_LANG", "zh")
    at = app.run()
    assert at.sidebar.selectbox(key="language_picker").value == "zh"
    at.query_params["lang"] = "en"  # a link in another language still wins
    at.run()
    assert at.sidebar.selectbox(key="language_picker").value == "en"


def test_the_english_detector_finds_a_sentence_and_spares_names():
    assert english_left("每个通道 The gates scale the channels down by about half")
    assert english_left("Top-5: English springer · se_resnet18_imagenette · SE_5_2") == []
    assert english_left("Squeeze-and-Excitation Networks（Hu 等，2018）") == []
    assert english_left("`attnviz profile DATA --model NAME --top-images 9`") == []
