"""The Streamlit app, driven by Streamlit's AppTest (no browser): every page runs without an
exception for an SE and an SK model, uploads produce the expected charts, bad files get their
message while good ones are still shown."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import attnviz.ui.cache as ui_cache
from bundled_kit import write_bundled

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 120


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> Path:
    """An assets folder with a (random-weight) SE and SK model in the bundled format."""
    folder = tmp_path_factory.mktemp("assets")
    write_bundled(folder, "se_resnet18_half", "test_se", default=True)
    write_bundled(folder, "sk_resnet18_half", "test_sk")
    return folder


@pytest.fixture
def app(assets, samples_dir, monkeypatch) -> AppTest:
    monkeypatch.setenv("ATTNVIZ_ASSETS", str(assets))
    monkeypatch.setenv("ATTNVIZ_SAMPLES", str(samples_dir))
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)


def chart_titles(at: AppTest) -> list[str]:
    titles = []
    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        titles.append(spec["layout"].get("title", {}).get("text", ""))
    return titles


def text_of(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def no_trace(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert "Traceback" not in text_of(at.error) + text_of(at.markdown)
    assert "Something went wrong" not in text_of(at.error)


def upload(at: AppTest, *files: tuple[str, bytes]) -> AppTest:
    at.sidebar.file_uploader(key="uploads").set_value([(n, d, "application/octet-stream") for n, d in files])
    return at.run()


def test_starts_with_a_hint_and_an_example_button(app):
    at = app.run()
    no_trace(at)
    assert "Upload photos" in text_of(at.info)
    assert at.sidebar.selectbox(key="model").value == "test_se"
    assert "Device:** CPU" in text_of(at.sidebar.markdown)
    at.button(key="example").click().run()
    no_trace(at)
    titles = chart_titles(at)
    assert any(t.startswith("Top-5: n01440764_tench") for t in titles)
    assert any(t.startswith("Excitation of every SE block") for t in titles)


def test_se_upload_shows_the_excitation_charts(app, goldfish):
    at = upload(app.run(), ("goldfish.jpg", goldfish.read_bytes()))
    no_trace(at)
    titles = chart_titles(at)
    assert titles[0] == "Top-5: goldfish.jpg"
    assert "Excitation of every SE block — goldfish.jpg" in titles
    assert "Excitation per block: distribution over channels" in titles
    assert "SE_5_2: excitation of its 256 channels" in titles
    # Every chart has its HTML and CSV downloads.
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels.count("⬇ HTML") == labels.count("⬇ CSV") == len(titles)


def test_bad_upload_gets_its_message_and_the_good_one_is_shown(app, goldfish):
    at = upload(app.run(), ("notes.txt", b"just some text\n"), ("goldfish.jpg", goldfish.read_bytes()),
                ("broken.jpg", goldfish.read_bytes()[:300]))
    no_trace(at)
    warnings = text_of(at.warning)
    assert "**notes.txt** was skipped: is a text file, not an image" in warnings
    assert "**broken.jpg** was skipped" in warnings
    assert "Excitation of every SE block — goldfish.jpg" in chart_titles(at)


def test_display_changes_run_no_new_forward_pass(app, goldfish, monkeypatch):
    calls = []
    real = ui_cache.analyse_images

    def counting(loaded, images, names=None, **kw):
        calls.append(len(images))
        return real(loaded, images, names, **kw)

    monkeypatch.setattr(ui_cache, "analyse_images", counting)
    # Content never seen before in this process, so the first run must compute it.
    data = goldfish.read_bytes() + b"\0fresh"
    at = upload(app.run(), ("fish.jpg", data))
    assert sum(calls) == 1
    at.selectbox[0].set_value("SE_3_1").run()
    at.checkbox[0].check().run()
    at.radio(key="page").set_value(at.radio(key="page").value).run()
    no_trace(at)
    assert sum(calls) == 1
    assert "SE_3_1: excitation of its 64 channels" in chart_titles(at)
    # The same bytes under another name are the same cache entry.
    at = upload(at, ("same_fish.jpg", data))
    assert sum(calls) == 1 and "Top-5: same_fish.jpg" in chart_titles(at)


def test_sk_model_shows_the_selection_charts(app, goldfish, samples_dir):
    at = app.run()
    at.sidebar.selectbox(key="model").set_value("test_sk").run()
    at = upload(at, ("goldfish.jpg", goldfish.read_bytes()),
                ("tench.jpg", (samples_dir / "n01440764_tench.JPEG").read_bytes()))
    no_trace(at)
    titles = chart_titles(at)
    assert "Kernel selection per SK unit: b against a (above the diagonal: 5×5 wins)" in titles
    assert any(t.startswith("Mean attention difference") for t in titles)
    assert "SK_5_2: distribution of b over its 256 channels" in titles
    assert not any(t.startswith("Excitation") for t in titles)
    at.radio(key="layout").set_value("side by side").run()
    no_trace(at)
    assert [t.startswith("Mean attention difference") for t in chart_titles(at)].count(True) == 2


def test_model_that_needs_a_download_shows_the_remedies_and_offers_random_weights(app, monkeypatch):
    import attnviz.zoo as zoo

    at = app.run()
    if zoo.weights_status("seresnet50") != "download":
        pytest.skip("seresnet50 weights are cached here")
    at.sidebar.selectbox(key="model").set_value("seresnet50").run()
    no_trace(at)
    assert "seresnet50 could not be loaded" in text_of(at.error)
    assert "Remedies" in text_of(at.error)
    assert "random weights (architecture only)" in text_of(at.info)
    at.sidebar.radio(key="weights_mode_seresnet50").set_value("random").run()
    no_trace(at)
    assert "Untrained" in text_of(at.sidebar.warning)


def test_bad_weights_file_is_explained(app, tmp_path):
    at = app.run()
    at.sidebar.selectbox(key="model").set_value("skresnet18").run()
    at.sidebar.radio(key="weights_mode_skresnet18").set_value("file").run()
    bad = tmp_path / "weights.pth"
    bad.write_bytes(b"not a checkpoint")
    at.sidebar.text_input(key="weights_file_skresnet18").input(str(bad)).run()
    no_trace(at)
    assert "skresnet18 could not be loaded" in text_of(at.error)
    assert "weights.pth" in text_of(at.error)


def test_starts_without_any_bundled_model(app, tmp_path, monkeypatch):
    monkeypatch.setenv("ATTNVIZ_ASSETS", str(tmp_path))
    monkeypatch.delenv("ATTNVIZ_SAMPLES")
    monkeypatch.chdir(tmp_path)
    at = app.run()
    no_trace(at)
    assert "No bundled model is installed" in text_of(at.sidebar.info)
