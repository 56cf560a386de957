"""Figures: each view plots exactly the numbers it is given, and exports them faithfully."""
from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from attnviz.figures import excitation, prediction, selection, split
from attnviz.figures.export import chart_config, figure_csv, figure_html, safe_filename
from attnviz.gates import Gate
from attnviz.inference import ImageAnalysis

SE = [Gate("SE_2_1", "layer1.0.se", "layer1.0.se.gate", "se", "se", 4, 1, 2, 1, 0),
      Gate("SE_3_1", "layer2.0.se", "layer2.0.se.gate", "se", "se", 8, 1, 3, 1, 1)]
SK = [Gate("SK_2_1", "layer1.0.conv1", "layer1.0.conv1.attn", "sk", "sk", 6, 2, 2, 1, 0),
      Gate("SK_3_1", "layer2.0.conv1", "layer2.0.conv1.attn", "sk", "sk", 10, 2, 3, 1, 1)]
SPLAT = [Gate("SPLAT_2_1", "layer1.0.conv2", "layer1.0.conv2.rsoftmax", "splat", "radix", 5, 2, 2, 1, 0)]


def analysis(gates, seed: int, name: str) -> ImageAnalysis:
    rng = np.random.default_rng(seed)
    values = {}
    for g in gates:
        if g.paths == 1:
            values[g.name] = rng.uniform(0, 1, (1, g.channels)).astype(np.float32)
        else:
            logits = rng.normal(size=(g.paths, g.channels))
            values[g.name] = (np.exp(logits) / np.exp(logits).sum(0)).astype(np.float32)
    probs = rng.dirichlet(np.ones(10)).astype(np.float32)
    return ImageAnalysis(name=name, probs=probs, values=values)


def rows_of(fig) -> list[dict]:
    return list(csv.DictReader(io.StringIO(figure_csv(fig).decode())))


def test_heatmap_stretches_rows_to_one_width_and_keeps_the_real_channel():
    a = analysis(SE, 0, "photo")
    fig = excitation.excitation_heatmap(SE, a)
    heat = fig.data[0]
    z, channel = np.asarray(heat.z), np.asarray(heat.customdata)
    assert z.shape == (2, 8)  # two blocks, widest has 8 channels
    # SE_2_1 has 4 channels: each covers two columns, and the hover names the real channel.
    assert channel[0].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    np.testing.assert_allclose(z[0], a.values["SE_2_1"][0][channel[0]])
    np.testing.assert_allclose(z[1], a.values["SE_3_1"][0])
    assert heat.zmin == 0 and heat.zmax == 1
    assert "index ÷ channels" in fig.layout.xaxis.title.text
    # Depth order from the top: the first row is the first block.
    assert list(heat.y)[0].startswith("SE_2_1") and fig.layout.yaxis.autorange == "reversed"
    # The CSV holds each real value once (4 + 8 rows), not the stretched copies.
    rows = rows_of(fig)
    assert len(rows) == 12
    assert [int(r["channel"]) for r in rows[:4]] == [0, 1, 2, 3]
    assert float(rows[5]["s"]) == pytest.approx(float(a.values["SE_3_1"][0, 1]), abs=1e-5)


def test_heatmap_refuses_a_model_without_se_gates():
    with pytest.raises(ValueError, match="no SE"):
        excitation.excitation_heatmap(SK, analysis(SK, 0, "x"))


@pytest.mark.parametrize("style", ["violin", "box"])
def test_distribution_has_one_trace_per_image_with_every_channel(style):
    images = [analysis(SE, 0, "one"), analysis(SE, 1, "two")]
    fig = excitation.excitation_distribution(SE, images, style)
    assert [t.type for t in fig.data] == [style, style]
    assert [t.name for t in fig.data] == ["one", "two"]
    assert list(fig.data[1].x).count("SE_3_1") == 8
    np.testing.assert_allclose(np.asarray(fig.data[1].y)[:4], images[1].values["SE_2_1"][0])
    with pytest.raises(ValueError, match="violin"):
        excitation.excitation_distribution(SE, images, "pie")


def test_block_bars_sorted_keep_channel_identity():
    a = analysis(SE, 3, "photo")
    fig = excitation.block_bars(SE[1], [a], sort=True)
    bars = fig.data[0]
    s = a.values["SE_3_1"][0]
    assert list(bars.y) == sorted(s, reverse=True)
    np.testing.assert_allclose(s[np.asarray(bars.customdata)], bars.y)
    rows = rows_of(fig)
    assert {"channel", "excitation s"} <= set(rows[0])


def test_selection_scatter_plots_b_against_a_per_unit_with_the_diagonal():
    images = [analysis(SK, 0, "one"), analysis(SK, 1, "two")]
    fig = selection.selection_scatter(SK, images)
    assert len(fig.data) == 4  # 2 units x 2 images
    first = fig.data[0]
    np.testing.assert_allclose(first.x, images[0].values["SK_2_1"][0])
    np.testing.assert_allclose(first.y, images[0].values["SK_2_1"][1])
    diagonals = [s for s in fig.layout.shapes if (s.x0, s.y0, s.x1, s.y1) == (0, 0, 1, 1)]
    assert len(diagonals) == 2
    assert [a.text for a in fig.layout.annotations] == ["SK_2_1", "SK_3_1"]
    rows = rows_of(fig)
    assert {"a (3x3)", "b (5x5)", "unit", "channel"} <= set(rows[0]) and len(rows) == 2 * (6 + 10)


def test_mean_difference_is_mean_of_b_minus_a():
    a = analysis(SK, 2, "photo")
    fig = selection.mean_difference_by_depth(SK, [a])
    expected = [float((a.values[g.name][1] - a.values[g.name][0]).mean()) for g in SK]
    np.testing.assert_allclose(fig.data[0].y, expected, rtol=1e-6)
    assert list(fig.data[0].x) == ["SK_2_1", "SK_3_1"]


def test_b_histogram_bins_b_over_zero_to_one():
    a = analysis(SK, 4, "photo")
    fig = selection.b_histogram(SK[1], [a])
    np.testing.assert_allclose(fig.data[0].x, a.values["SK_3_1"][1])
    assert fig.data[0].xbins.start == 0 and fig.data[0].xbins.size == pytest.approx(1 / 40)


def test_split_views():
    a = analysis(SPLAT, 5, "photo")
    heat = split.split_weights(SPLAT[0], a)
    np.testing.assert_allclose(heat.data[0].z, a.values["SPLAT_2_1"])
    balance = split.split_balance_by_depth(SPLAT, [a])
    assert [t.name for t in balance.data] == ["split 1", "split 2"]
    assert balance.data[0].y[0] + balance.data[1].y[0] == pytest.approx(1.0, abs=1e-5)


def test_top_k_bars_most_likely_on_top():
    top = [{"label": "tench", "prob": 0.7}, {"label": "goldfish", "prob": 0.2}, {"label": "eel", "prob": 0.1}]
    fig = prediction.top_k_bars(top)
    assert list(fig.data[0].y) == ["eel", "goldfish", "tench"]  # plotly draws bottom-up
    assert list(fig.data[0].text) == ["10.0%", "20.0%", "70.0%"]


def test_exports():
    fig = excitation.block_bars(SE[0], [analysis(SE, 0, "photo")])
    html = figure_html(fig).decode()
    assert html.lower().startswith("<!doctype html>") and "Plotly.newPlot" in html
    assert 'src="https://cdn.plot.ly' not in html and len(html) > 1_000_000  # plotly.js inlined: opens offline
    config = chart_config("SE 2_1: bars/photo", "svg")
    assert config["toImageButtonOptions"] == {"format": "svg", "filename": "SE_2_1_bars_photo", "scale": 2}
    with pytest.raises(ValueError, match="png"):
        chart_config("x", "jpeg")
    assert safe_filename("///") == "figure"
