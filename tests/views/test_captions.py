"""Captions say what is drawn: computed from the arrays the traces plot, per photo when several are
drawn; changing the data changes the caption. Overlaid photos' heatmaps share one colour scale."""
from __future__ import annotations

import numpy as np
import pytest

from attnviz.figures import excitation
from attnviz.analysis.inference import ImageAnalysis
from attnviz.views.explore import block_charts, overview_charts
from tiny import tiny


@pytest.fixture(scope="module")
def se():
    return tiny("se_resnet18_half", size=64)


@pytest.fixture(scope="module")
def sk():
    return tiny("sk_resnet18_half", size=64)


def analysis_of(model, name: str, seed: int, peak: dict[str, int] | None = None, b_high: set[str] = frozenset()):
    """Made-up gate values of the right shapes; ``peak``: gate -> the channel given s = 0.99;
    ``b_high``: SK units whose b is above a in every channel."""
    rng = np.random.default_rng(seed)
    values = {}
    for g in model.gates:
        v = rng.uniform(0.2, 0.8, (g.paths, g.channels)).astype(np.float32)
        if g.paths == 2:
            b = rng.uniform(0.55, 0.9, g.channels) if g.name in b_high else rng.uniform(0.1, 0.45, g.channels)
            v = np.stack([1 - b, b]).astype(np.float32)
        if peak and g.name in peak:
            v[0, peak[g.name]] = 0.99
        values[g.name] = v
    return ImageAnalysis(name, np.full(10, 0.1, dtype=np.float32), values)


def drawn(chart):
    """Per trace: (name, y values) as plotted."""
    return [(t.name, np.asarray(t.y, dtype=float)) for t in chart.figure.data if t.y is not None]


def test_one_photo_is_bars_and_its_caption_names_the_drawn_peak(se):
    gate = se.gates[-1]
    [chart] = block_charts(gate, [analysis_of(se, "tench", 0, {gate.name: 17})])
    [(name, y)] = drawn(chart)
    assert chart.figure.data[0].type == "bar"
    assert "Each bar" in chart.caption and f"Most excited: channel {int(np.argmax(y))} " in chart.caption
    assert int(np.argmax(y)) == 17
    [changed] = block_charts(gate, [analysis_of(se, "tench", 0, {gate.name: 5})])
    assert "Most excited: channel 5 " in changed.caption and changed.caption != chart.caption


def test_several_photos_are_lines_and_the_caption_names_each_photo(se):
    gate = se.gates[-1]
    photos = [analysis_of(se, "tench", 0, {gate.name: 3}), analysis_of(se, "church", 1, {gate.name: 40})]
    [chart] = block_charts(gate, photos)
    assert {t.type for t in chart.figure.data} == {"scatter"} and "Each bar" not in chart.caption
    assert "Each line is one photo" in chart.caption
    for name, y in drawn(chart):
        low = int(np.argmin(y))
        assert f"{name}: most excited channel {int(np.argmax(y))} (s = 0.99), least channel {low}" in chart.caption


def test_the_sk_depth_caption_counts_each_drawn_photo(sk):
    units = [g for g in sk.gates if g.paths == 2]
    photos = [analysis_of(sk, "tench", 0, b_high={units[0].name}),
              analysis_of(sk, "church", 1, b_high={u.name for u in units[:3]})]
    [chart] = [c for c in overview_charts(sk, photos) if c.key == "mean_difference"]
    for name, y in drawn(chart):
        assert f"{name}: {int((y > 0).sum())} of {len(units)} units lean to it." in chart.caption
    assert "tench: 1 of" in chart.caption and "church: 3 of" in chart.caption
    [alone] = [c for c in overview_charts(sk, photos[1:]) if c.key == "mean_difference"]
    assert f"Here 3 of {len(units)} units lean to it." in alone.caption


def test_overlaid_heatmaps_share_one_colour_scale(se):
    photos = [analysis_of(se, "tench", 0), analysis_of(se, "church", 1)]
    photos[1].values[se.gates[0].name][:] = 0.05  # one photo reaches lower than the other
    heatmaps = [c for c in overview_charts(se, photos) if c.key.startswith("excitation_heatmap")]
    ranges = {(c.figure.data[0].zmin, c.figure.data[0].zmax) for c in heatmaps}
    assert len(heatmaps) == 2 and len(ranges) == 1
    everything = np.concatenate([a.values[g.name].ravel() for a in photos for g in se.gates])
    assert ranges.pop() == pytest.approx(tuple(np.percentile(everything, [1, 99])))
    assert "one scale for the 2 photos shown" in heatmaps[0].caption
    alone = excitation.excitation_heatmap(se.gates, photos[0])  # one photo: fitted to it
    assert alone.data[0].zmin > heatmaps[0].figure.data[0].zmin
