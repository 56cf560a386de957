"""Explore's channel view: the images a profile kept for one channel, their classes against the
dataset's, and where the channel fires on each (AppTest)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from bundled_kit import write_profiled_se

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def assets(tmp_path_factory, nette_dir):
    """A test SE model and its profile with 2 top images per channel, from 2 val images per class."""
    return write_profiled_se(tmp_path_factory.mktemp("assets"), nette_dir / "val")


def _app(assets, samples_dir, monkeypatch, data_root: Path | None) -> AppTest:
    monkeypatch.setenv("ATTNVIZ_ASSETS", str(assets))
    monkeypatch.setenv("ATTNVIZ_SAMPLES", str(samples_dir))
    if data_root is None:
        monkeypatch.delenv("ATTNVIZ_DATA_ROOT", raising=False)
    else:
        monkeypatch.setenv("ATTNVIZ_DATA_ROOT", str(data_root))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.switch_page("attnviz/app/pages/explore.py")
    at.sidebar.file_uploader(key="uploads").set_value(
        [("goldfish.jpg", (samples_dir / "n01443537_goldfish.JPEG").read_bytes(), "image/jpeg")])
    return at.run()


def test_channel_view_shows_the_top_images_with_where_the_channel_fires(assets, samples_dir, nette_dir, monkeypatch):
    at = _app(assets, samples_dir, monkeypatch, nette_dir.parent)
    assert not at.exception, [e.value for e in at.exception]
    at.selectbox(key="explore_block").set_value("SE_5_2").run()
    at.number_input(key="channel_SE_5_2").set_value(7).run()
    assert not at.exception
    markdown = "\n".join(str(m.value) for m in at.markdown)
    assert "The 2 images of imagenette-224/val that excite it most" in markdown
    assert len(at.get("image")) >= 1 + 4  # the photo, then 2 top and 2 bottom images
    keys = [e.key for e in at.get("plotly_chart")]
    assert "chart_channel_class_mix_SE_5_2_7" in keys
    spec = json.loads(at.get("plotly_chart")[keys.index("chart_channel_class_mix_SE_5_2_7")].proto.spec)
    assert [t["name"] for t in spec["data"]] == ["among the top images", "in the whole dataset"]


def test_without_a_data_root_the_channel_view_lists_names_only(assets, samples_dir, monkeypatch):
    at = _app(assets, samples_dir, monkeypatch, None)
    assert not at.exception
    assert "ATTNVIZ_DATA_ROOT" in "\n".join(str(c.value) for c in at.caption)
    assert at.dataframe and {"value", "class", "image"} <= set(at.dataframe[0].value.columns)
