"""What every session of the server shares (issue 25): decodes and charts are keyed by what they
depend on (two visitors' photo.jpg with different bytes never share one), shared objects cannot be
changed by a visitor, and charts nobody is shown are not built. Figure builders are counted with a
wrapper that calls the real builder, never replaced."""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from attnviz.app import state
from attnviz.app.cache_keys import ChartKey, DecodeKey, PhotoKey
from attnviz.app.chart_cache import FrozenChart, plain_arrays, shared_charts
from attnviz.figures.export import figure_csv
from attnviz.serving.jobs import SharedResults
from bundled_kit import app_test, write_profiled_se

TIMEOUT = 120


@pytest.fixture(scope="module")
def assets(tmp_path_factory, nette_dir) -> Path:
    """The test SE model and its class profile (2 top images per channel, from 2 val images per
    class), so that Explore's channel view has its class-mix chart."""
    return write_profiled_se(tmp_path_factory.mktemp("assets"), nette_dir / "val")


def visitor(monkeypatch, assets, samples_dir):
    """A new session on Explore with nothing chosen (the live example's sample emptied)."""
    at = app_test(monkeypatch, assets, samples_dir, TIMEOUT).run()
    at.switch_page("attnviz/app/pages/explore.py").run()
    at.sidebar.multiselect(key="samples").set_value([]).run()
    return at


def upload(at, name: str, data: bytes):
    at.sidebar.file_uploader(key="uploads").set_value([(name, data, "image/jpeg")])
    return at.run()


def top5(at) -> dict:
    """The top-5 chart the session was sent: {class: probability} read from its JSON."""
    [chart] = [e for e in at.get("plotly_chart") if e.key.startswith("chart_top5_")]
    bar = json.loads(chart.proto.spec)["data"][0]
    return dict(zip(bar["y"], plain_arrays(bar["x"]).tolist() if isinstance(bar["x"], dict) else bar["x"], strict=True))


class Counter:
    """Wraps a real builder and counts its calls."""

    def __init__(self, module, name: str, monkeypatch) -> None:
        self.calls = 0
        real = getattr(module, name)

        def counted(*args, **kwargs):
            self.calls += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)


def expected_top5(assets, data: bytes, monkeypatch) -> dict:
    """The model's top-5 for these bytes computed here, past every cache of the app: the bundled
    model loaded anew, the bytes decoded anew, one forward pass."""
    from attnviz.analysis.inference import analyse_images
    from attnviz.serving.inputs import ImageInput, decode
    from attnviz.models.zoo import load_model

    monkeypatch.setenv("ATTNVIZ_ASSETS", str(assets))
    loaded = load_model("test_se", device="cpu")
    [analysis] = analyse_images(loaded, [decode(ImageInput("reference.jpg", data)).image])
    return {row.label: row.prob for row in analysis.top(loaded.class_names, 5)}


def test_two_visitors_photo_jpg_with_different_bytes_each_see_their_own_photo(assets, samples_dir, monkeypatch):
    tench = (samples_dir / "n01440764_tench.JPEG").read_bytes()
    pug = (samples_dir / "n02110958_pug.JPEG").read_bytes()
    first, second = visitor(monkeypatch, assets, samples_dir), visitor(monkeypatch, assets, samples_dir)
    upload(first, "photo.jpg", tench)
    upload(second, "photo.jpg", pug)
    assert not first.exception and not second.exception
    for at, data in ((first, tench), (second, pug)):
        shown, expected = top5(at), expected_top5(assets, data, monkeypatch)
        assert set(shown) == set(expected)  # the chart lists the most likely class at the top (last bar)
        np.testing.assert_allclose([shown[k] for k in expected], list(expected.values()), atol=1e-5)
    assert top5(first) != top5(second)


def test_decodes_are_keyed_by_name_and_content(samples_dir):
    tench = (samples_dir / "n01440764_tench.JPEG").read_bytes()
    pug = (samples_dir / "n02110958_pug.JPEG").read_bytes()
    a = state.decoded("photo.jpg", hashlib.sha256(tench).hexdigest(), tench)
    b = state.decoded("photo.jpg", hashlib.sha256(pug).hexdigest(), pug)
    # Each is the picture PIL reads from its own bytes (both are 500 x 375: kept whole), not one for both.
    for image, data in ((a, tench), (b, pug)):
        assert image.size == (500, 375)
        np.testing.assert_array_equal(np.asarray(image.image), np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    assert a.digest != b.digest and not np.array_equal(np.asarray(a.image), np.asarray(b.image))
    assert DecodeKey(PhotoKey("photo.jpg", a.digest)) != DecodeKey(PhotoKey("photo.jpg", b.digest))
    assert DecodeKey(PhotoKey("photo.jpg", a.digest), "en") != DecodeKey(PhotoKey("photo.jpg", a.digest), "zh")


def test_chart_keys_differ_in_every_field_and_each_key_is_built_once():
    photo = PhotoKey("photo.jpg", "a" * 64)
    base = ChartKey("overview", "se", (photo,), "en")
    variants = [dataclasses.replace(base, photos=(PhotoKey("photo.jpg", "b" * 64),)),
                dataclasses.replace(base, photos=(PhotoKey("other.jpg", "a" * 64),)),
                dataclasses.replace(base, language="ja"), dataclasses.replace(base, model="sk"),
                dataclasses.replace(base, profile="assets/profiles/se.profile.safetensors"),
                dataclasses.replace(base, view="block"), dataclasses.replace(base, gate="SE_2_1"),
                dataclasses.replace(base, channel=3), dataclasses.replace(base, sort_channels=True),
                dataclasses.replace(base, distribution="box")]
    assert len({base, *variants}) == 1 + len(variants)
    store, builds = SharedResults(max_entries=64), []

    def build(key):
        def charts():
            builds.append(key)
            from attnviz.views.chart import Chart
            import plotly.graph_objects as go

            return [Chart(f"c{len(builds)}", go.Figure(go.Bar(x=[1, 2], y=[3, 4])))]
        return charts

    for key in [base, *variants, base, *variants]:
        shared_charts(store, key, build(key))
    assert builds == [base, *variants]  # each key built once, the second round from the store


def test_shared_charts_cannot_be_changed_by_a_visitor():
    import plotly.graph_objects as go

    from attnviz.views.chart import Chart, mark_untrained

    values = np.array([[0.25, 0.5], [0.75, 1.0]])
    chart = FrozenChart.of(Chart("heat", go.Figure(go.Heatmap(z=values, customdata=[[0, 1], [0, 1]])).update_layout(
        title_text="Excitation")))
    with pytest.raises(dataclasses.FrozenInstanceError):
        chart.spec = "{}"
    with pytest.raises(dataclasses.FrozenInstanceError):
        chart.caption = "changed"
    mine = mark_untrained(chart.figure)  # what a session does to its copy
    mine.update_layout(height=999)
    assert "untrained" in mine.layout.title.text
    again = chart.figure
    assert again.layout.title.text == "Excitation" and again.layout.height is None
    sent = chart.as_sent().to_dict()  # what Streamlit reads of the figure it sends
    sent["layout"]["title"]["text"] = "changed"
    assert chart.as_sent().to_dict()["layout"]["title"]["text"] == "Excitation"
    # The numbers come back as the figure had them (CSV written from the decoded arrays).
    np.testing.assert_array_equal(np.asarray(chart.data_figure().data[0].z), values)
    assert figure_csv(chart.data_figure()) == figure_csv(go.Figure(go.Heatmap(z=values, customdata=[[0, 1], [0, 1]]))
                                                          .update_layout(title_text="Excitation"))


def test_cached_analyses_are_read_only(photos, sk_model):
    from attnviz.serving.analyses import AnalysisCache
    from attnviz.serving.models import ModelRequest, ServedModel

    cache = AnalysisCache()
    model = ServedModel(ModelRequest("tiny-sk"), sk_model)
    [analysis] = cache.analyse(model, photos[:1])
    gate = sk_model.gates[0].name
    with pytest.raises(ValueError):
        analysis.probs[0] = 1.0
    with pytest.raises(ValueError):
        analysis.values[gate][0, 0] = 1.0
    with pytest.raises(TypeError):
        analysis.values[gate] = np.zeros(3)
    [again] = cache.analyse(model, photos[:1])
    assert again.values[gate] is analysis.values[gate]  # the same shared arrays, unchanged


def test_a_rerun_builds_no_chart_and_a_second_visitor_of_the_same_photo_neither(assets, samples_dir, monkeypatch):
    import attnviz.views.explore as explore

    goldfish = (samples_dir / "n01443537_goldfish.JPEG").read_bytes()
    first = visitor(monkeypatch, assets, samples_dir)
    tops = Counter(explore, "prediction_chart", monkeypatch)
    overviews = Counter(explore, "overview_charts", monkeypatch)
    blocks = Counter(explore, "block_charts", monkeypatch)
    upload(first, "shared-goldfish.jpg", goldfish)
    assert (tops.calls, overviews.calls, blocks.calls) == (1, 1, 1)
    first.run()  # a rerun that changes nothing
    second = upload(visitor(monkeypatch, assets, samples_dir), "shared-goldfish.jpg", goldfish)
    assert not second.exception
    assert (tops.calls, overviews.calls, blocks.calls) == (1, 1, 1)
    assert top5(first) == top5(second)
    second.checkbox(key="sort_channels").check().run()  # another option: the block chart is built for it
    assert (tops.calls, overviews.calls, blocks.calls) == (1, 1, 2)


def test_a_closed_channel_view_builds_none_of_its_charts(assets, samples_dir, monkeypatch):
    import attnviz.views.channel as channel_views
    from attnviz.app.pages.explore import CHANNEL_VIEW

    at = upload(visitor(monkeypatch, assets, samples_dir), "closed-view-goldfish.jpg",
                (samples_dir / "n01443537_goldfish.JPEG").read_bytes())
    mixes = Counter(channel_views, "class_mix_chart", monkeypatch)
    at.session_state[CHANNEL_VIEW] = False  # the visitor closes "What does one channel respond to?"
    at.run()
    block = at.selectbox(key="explore_block")
    block.set_value(block.options[0]).run()  # another block: its channel view would be new
    assert not at.exception
    assert mixes.calls == 0
    assert not [e for e in at.get("plotly_chart") if e.key.startswith("chart_channel_class_mix")]
    at.session_state[CHANNEL_VIEW] = True  # opened again: built now, for the block shown
    at.run()
    assert mixes.calls == 1
    assert [e for e in at.get("plotly_chart") if e.key.startswith("chart_channel_class_mix")]


def test_a_shown_picture_is_encoded_once_per_photo_and_is_that_photo(samples_dir):
    from attnviz.app.render import shown_bytes

    tench = (samples_dir / "n01440764_tench.JPEG").read_bytes()
    pug = (samples_dir / "n02110958_pug.JPEG").read_bytes()
    a = state.decoded("photo.jpg", hashlib.sha256(tench).hexdigest(), tench)
    b = state.decoded("photo.jpg", hashlib.sha256(pug).hexdigest(), pug)
    sent_a, sent_b = shown_bytes(a), shown_bytes(b)
    assert shown_bytes(a) is sent_a  # the second page to show it encodes nothing
    for sent, data in ((sent_a, tench), (sent_b, pug)):
        # JPEG at quality 100 of the photo PIL reads from its own bytes: within a few grey levels.
        got = np.asarray(Image.open(io.BytesIO(sent)).convert("RGB"), dtype=float)
        reference = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=float)
        assert got.shape == reference.shape and np.abs(got - reference).mean() < 2
