"""The "Compare models" page, driven by Streamlit's AppTest: two or three models on the session's
photos, their top-5 side by side, the stage chart, the correlation chart for two SE models of the
same layout, models loaded once per process, and the timm models without weights kept out unless
random weights are asked for."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import attnviz.app.state as state
from apptest_kit import SAMPLES, no_trace, text_of
from bundled_kit import write_comparison_models

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> Path:
    """Models to compare (the app fixture of tests/app/conftest.py serves these)."""
    return write_comparison_models(tmp_path_factory.mktemp("assets"))


def charts(at: AppTest) -> dict[str, dict]:
    return {e.key: json.loads(e.proto.spec) for e in at.get("plotly_chart")}


def open_page(at: AppTest, samples_dir: Path, samples=SAMPLES) -> AppTest:
    at.run()
    at.sidebar.multiselect(key="samples").set_value([str(samples_dir / s) for s in samples])
    at.run()
    return at.switch_page("attnviz/app/pages/models.py").run()


def test_two_bundled_models_side_by_side(app, samples_dir):
    at = open_page(app, samples_dir)
    no_trace(at, no_errors=True)
    chosen = at.multiselect(key="models_chosen")
    assert chosen.value == ["test_se", "test_sk"]  # the bundled models are offered first
    keys = charts(at)
    assert "chart_models_models_top_test_se_0" in keys and "chart_models_models_top_test_sk_0" in keys
    stages = keys["chart_models_models_stages"]
    lines = [t for t in stages["data"] if t.get("mode") == "lines+markers"]
    assert [t["name"] for t in lines] == ["test_se (s)", "test_sk (b)"]
    assert "relative depth" in stages["layout"]["xaxis"]["title"]["text"]
    assert "chart_models_models_correlation" not in keys
    captions = text_of(at.caption)
    assert "agree on the top-1 class" in captions and "same gate names" in captions
    # Another photo for the top-5: the charts of the second image, the same stage chart.
    at.selectbox(key="models_image").set_value("goldfish").run()
    no_trace(at, no_errors=True)
    assert "chart_models_models_top_test_sk_1" in charts(at)


def test_two_se_models_of_one_layout_get_the_correlation_and_three_fit(app, samples_dir):
    at = open_page(app, samples_dir, SAMPLES[:1])
    at.multiselect(key="models_chosen").set_value(["test_se", "test_se2", "test_sk"]).run()
    no_trace(at, no_errors=True)
    keys = charts(at)
    corr = keys["chart_models_models_correlation"]
    assert corr["layout"]["yaxis"]["range"] == [-1.05, 1.05]
    assert corr["data"][0]["name"].startswith("test_se vs test_se2")
    assert len([k for k in keys if "_top_" in k]) == 3


def test_fewer_than_two_models_or_no_photo_explain_themselves(app, samples_dir):
    at = open_page(app, samples_dir)
    at.multiselect(key="models_chosen").set_value(["test_sk"]).run()
    no_trace(at, no_errors=True)
    assert "Choose 2 or 3 models" in text_of(at.info) and not at.get("plotly_chart")
    at.multiselect(key="models_chosen").set_value(["test_se", "test_sk"])
    at.sidebar.multiselect(key="samples").set_value([]).run()
    no_trace(at, no_errors=True)
    assert "Upload photos" in text_of(at.info)


def test_models_are_loaded_once_per_process(app, samples_dir, monkeypatch):
    at = open_page(app, samples_dir)
    loads = []
    real = state.load_request
    monkeypatch.setattr(state, "load_request", lambda *a: loads.append(a) or real(*a))
    at.multiselect(key="models_chosen").set_value(["test_sk", "test_se"]).run()
    at.selectbox(key="models_image").set_value("goldfish").run()
    no_trace(at, no_errors=True)
    assert loads == []


def test_models_without_weights_only_with_random_weights(app, samples_dir):
    import attnviz.models.zoo as zoo

    at = open_page(app, samples_dir, SAMPLES[:1])
    missing = [r["name"] for r in zoo.list_models() if r["weights"] == "download"]
    if not missing:
        pytest.skip("every timm model's weights are cached here")
    assert not set(missing) & set(at.multiselect(key="models_chosen").options)
    at.checkbox(key="models_random").check().run()
    no_trace(at, no_errors=True)
    name = "seresnet18" if "seresnet18" in missing else missing[0]
    options = at.multiselect(key="models_chosen").options
    assert f"{name} ⊘ (random weights)" in options
    at.multiselect(key="models_chosen").set_value(["test_se", name]).run()
    no_trace(at, no_errors=True)
    assert f"Untrained (random weights): {name}" in text_of(at.warning)
    title = charts(at)["chart_models_models_stages"]["layout"]["title"]["text"]
    assert "untrained" in title
