"""Names that visitors choose are shown as plain text: in the pages (Streamlit Markdown: no link,
image, LaTeX, HTML or shortcode from a name), in the charts (plotly HTML: no tag from a name)
and in the report. The issue's case: a file named ``![t](http://127.0.0.1:PORT/x.png).jpg`` made
the visitor's browser fetch that address."""
from __future__ import annotations

import io
import json
import re
import string
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from attnviz.figures.literal import chart_text, markdown_text, unescape_markdown
from bundled_kit import write_bundled

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["![t](http://127.0.0.1:9/x.png).jpg", '<a href="http://x">a</a>.jpg', "$x^2$.jpg"]


def literal_markdown(text: str, name: str) -> bool:
    """CommonMark's rule written again: a backslash before an ASCII punctuation character makes
    it that character; ``text`` shows ``name`` literally when every punctuation mark of it is so
    escaped (Streamlit's $ and : included) and unescaping gives the name back. A WORD JOINER
    (U+2060) draws nothing, so the reader sees the name without it."""
    i, out = 0, []
    while i < len(text):
        ch = text[i]
        if ch == "\u2060":
            i += 1
            continue
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in string.punctuation:
            out.append(text[i + 1])
            i += 2
            continue
        if ch in string.punctuation:
            return False
        out.append(ch)
        i += 1
    return "".join(out) == name


@pytest.mark.parametrize("name", NAMES + [":red[x] **b** `c` \\ ~d~ #h", "line\nbreak"])
def test_a_name_in_markdown_is_only_literal_characters(name):
    shown = markdown_text(name)
    assert literal_markdown(shown, " ".join(name.splitlines()))
    assert unescape_markdown(shown) == " ".join(name.splitlines())


def resolved(text: str) -> str:
    """The text after CommonMark's backslash escapes are resolved (where GFM looks for bare addresses)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)


#: GFM's literal autolinks, written again from mdast-util-gfm-autolink-literal (which Streamlit's
#: remark-gfm runs on the resolved text): a URL after http://, https:// or www., and an e-mail address.
GFM_URL = re.compile(r"(?i)(https?://|www(?=\.))([-.\w]+)")
GFM_EMAIL = re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)")


@pytest.mark.parametrize("name", ["see http://127.0.0.1:9/x.jpg", "HTTPS://a.b/c.png", "www.example.com.jpg",
                                  "me@host.org.jpg", "x(https://a.b).png"])
def test_a_bare_address_in_a_name_is_no_link(name):
    assert GFM_URL.search(name) or GFM_EMAIL.search(name)          # the reference finds it in the name
    shown = markdown_text(name)
    assert literal_markdown(shown, name)
    assert not GFM_URL.search(resolved(shown)) and not GFM_EMAIL.search(resolved(shown)), shown


def test_a_name_in_a_chart_has_no_tag():
    assert chart_text('<a href="http://x">a</a> & <b>') == '&lt;a href="http://x"&gt;a&lt;/a&gt; &amp; &lt;b&gt;'


def jpeg(colour) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (80, 80), colour).save(buf, "JPEG")
    return buf.getvalue()


def test_figure_titles_and_labels_escape_names(sk_model):
    from attnviz.analysis.inference import analyse_images
    from attnviz.views.explore import prediction_chart

    [analysis] = analyse_images(sk_model, [Image.new("RGB", (64, 64), (90, 20, 20))], [NAMES[1]])
    fig = prediction_chart(sk_model, analysis).figure
    title = fig.layout.title.text
    assert not re.search(r"<a[\s>]", title) and "&lt;a" in title and "&lt;/a&gt;.jpg" in title


def test_the_report_shows_names_as_text_and_fetches_nothing(sk_model):
    from attnviz.analysis.inference import analyse_images
    from attnviz.views.report import explore_report

    images = [Image.new("RGB", (64, 64), (30 * i, 90, 40)) for i in range(len(NAMES))]
    analyses = analyse_images(sk_model, images, NAMES)
    page = explore_report(sk_model, [(n, im, a, None) for n, im, a in zip(NAMES, images, analyses, strict=True)])
    assert "127.0.0.1:9" in page                               # the name is there, as text
    assert not re.search(r"src=\\?['\"]?https?://", page)     # never an image to fetch
    assert not re.search(r"<a [^>]*href=\\?['\"]?http://x", page)  # never a link
    for spec in re.findall(r'"title":\{"text":"(Top-5[^"]*(?:\\"[^"]*)*)"', page):
        assert not re.search(r"<a[\s>]", spec)


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("assets")
    write_bundled(folder, "se_resnet18_half", "test_se", default=True)
    return folder


def test_uploaded_names_show_as_literal_text_in_the_app(assets, monkeypatch):
    monkeypatch.setenv("ATTNVIZ_ASSETS", str(assets))
    monkeypatch.setenv("ATTNVIZ_SAMPLES", str(assets / "no-samples"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.switch_page("attnviz/app/pages/explore.py")
    files = [(n, jpeg((60 * i, 120, 30)), "image/jpeg") for i, n in enumerate(NAMES)]
    files.append(("![bad](http://127.0.0.1:9/y.png).jpg", b"not an image", "image/jpeg"))
    at.sidebar.file_uploader(key="uploads").set_value(files).run()
    assert not at.exception, [e.value for e in at.exception]
    warnings = [w.value for w in at.warning]
    bad = [w for w in warnings if "y\\.png" in w]
    assert bad, warnings
    name = bad[0].split("** was skipped")[0].removeprefix("**")
    assert literal_markdown(name, "![bad](http://127.0.0.1:9/y.png).jpg")
    titles = [json.loads(e.proto.spec)["layout"]["title"]["text"] for e in at.get("plotly_chart")]
    tops = [t for t in titles if t.startswith("Top-5")]
    assert len(tops) == 3 and not any(re.search(r"<a[\s>]", t) for t in tops)
    assert any("&lt;/a&gt;.jpg" in t for t in tops)
    for text in [m.value for m in at.markdown] + [c.value for c in at.caption] + warnings:
        # markup that is not backslash-escaped: an image or link target, a tag, LaTeX
        assert not re.search(r"(?<!\\)\]\(http", text) and not re.search(r"(?<!\\)<a\s", text), text
        assert not re.search(r"(?<!\\)\$x", text), text


def test_an_uploaded_weights_files_name_in_its_error_is_text(assets, monkeypatch):
    monkeypatch.setenv("ATTNVIZ_ASSETS", str(assets))
    monkeypatch.setenv("ATTNVIZ_SAMPLES", str(assets / "no-samples"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.sidebar.selectbox(key="model").set_value("skresnet18").run()
    at.sidebar.radio(key="weights_mode_skresnet18").set_value("file").run()
    name = "![w](http://127.0.0.1:9/w.png).safetensors"
    at.sidebar.file_uploader(key="weights_upload_skresnet18").set_value(
        (name, b"\x10\x00\x00\x00\x00\x00\x00\x00{}", "application/octet-stream")).run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [str(e.value) for e in at.error]
    shown = [e for e in errors if "w\\.png" in e]
    assert shown, errors
    assert not re.search(r"(?<!\\)\]\(http", shown[0]), shown[0]
    assert markdown_text(name) in shown[0]
