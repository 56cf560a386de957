"""Figures: each view plots exactly the numbers it is given, and exports them faithfully."""
from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from attnviz.figures import excitation, prediction, selection, split
from attnviz.figures.export import chart_config, figure_csv, figure_html, safe_filename
from attnviz.gates import Gate, kind_named
from attnviz.analysis.inference import ImageAnalysis, TopClass

SE = [Gate("SE_2_1", "layer1.0.se", "layer1.0.se.gate", kind_named("se"), "se", 4, 1, 2, 1, 0),
      Gate("SE_3_1", "layer2.0.se", "layer2.0.se.gate", kind_named("se"), "se", 8, 1, 3, 1, 1)]
SK = [Gate("SK_2_1", "layer1.0.conv1", "layer1.0.conv1.attn", kind_named("sk"), "sk", 6, 2, 2, 1, 0),
      Gate("SK_3_1", "layer2.0.conv1", "layer2.0.conv1.attn", kind_named("sk"), "sk", 10, 2, 3, 1, 1)]
SPLAT = [Gate("SPLAT_2_1", "layer1.0.conv2", "layer1.0.conv2.rsoftmax", kind_named("splat"), "radix", 5, 2, 2, 1, 0)]


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
    # The colour scale is fitted to the values (1st-99th percentile), not fixed to 0..1.
    assert heat.zmin == pytest.approx(np.percentile(z, 1)) and heat.zmax == pytest.approx(np.percentile(z, 99))
    assert "first → last" in fig.layout.xaxis.title.text
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
    top = [TopClass(0, "tench", 0.7), TopClass(1, "goldfish", 0.2), TopClass(6, "eel", 0.1)]
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


# ---------------------------------------------------------------- classes, scale, attribution, walkthrough

from PIL import Image  # noqa: E402

from attnviz.figures import attribution as attribution_figures  # noqa: E402
from attnviz.figures import classes as class_figures  # noqa: E402
from attnviz.figures import scale as scale_figures  # noqa: E402
from attnviz.figures.walkthrough import step_panels  # noqa: E402


def block_means(gate: str, seed: int, classes: int = 3, n: int = 6) -> class_figures.BlockClassMeans:
    rng = np.random.default_rng(seed)
    means = rng.uniform(0.2, 0.8, (classes, n))
    return class_figures.BlockClassMeans(gate, np.arange(0, 2 * n, 2), means, np.full((classes, n), 0.1),
                                         means.mean(0))


def test_role_of_excitation_one_line_per_class_plus_the_mean_and_a_band():
    blocks = [block_means("SE_4_6", 0), block_means("SE_5_2", 1)]
    fig = class_figures.role_of_excitation(blocks, ["tench", "church", "golf ball"], band_class=1)
    names = [t.name for t in fig.data]
    assert names == ["church ± std", "tench", "church", "golf ball", "mean of all classes"] * 2
    np.testing.assert_allclose(fig.data[2].y, blocks[0].means[1])
    np.testing.assert_allclose(fig.data[4].y, blocks[0].overall)
    band = fig.data[0]
    np.testing.assert_allclose(band.y[:6], blocks[0].means[1] + 0.1)
    assert [t.showlegend for t in fig.data[:5]] == [True] * 5 and not any(t.showlegend for t in fig.data[5:])
    # Hover and CSV name the real channel, not the plotted position.
    rows = [r for r in rows_of(fig) if r["trace"] == "tench"]
    assert [int(r["channel"]) for r in rows[:3]] == [0, 2, 4] and rows[0]["block"] == "SE_4_6"
    assert list(fig.data[1].x[:3]) == ["0", "2", "4"]  # the x axis names the real channel
    # Highlighting a class keeps it in colour and fades the others.
    lit = class_figures.role_of_excitation(blocks, ["tench", "church", "golf ball"], highlight=2)
    colours = {t.name: t.line.color for t in lit.data[:4]}
    assert colours["golf ball"].startswith("#") and colours["tench"].startswith("rgba(150")


def test_specificity_and_similarity():
    fig = class_figures.specificity_bars(["SE_2_1", "SE_5_2"], [0.05, 0.4])
    assert list(fig.data[0].y) == [0.05, 0.4]
    m = np.array([[1.0, 0.99], [0.99, 1.0]])
    sim = class_figures.similarity_matrix(["a", "b"], m, "SE_5_2", centred=False)
    assert sim.data[0].zmax == 1.0 and sim.data[0].zmin == pytest.approx(0.99)
    assert sim.data[0].text[0][1] == "0.99"
    centred = class_figures.similarity_matrix(["a", "b"], -m, "SE_5_2")  # centred by default
    assert centred.data[0].zmin == -1.0 and centred.data[0].zmax == 1.0 and "sets each class apart" in centred.layout.title.text


def test_scale_figures_one_line_per_zoom_in_zoom_order():
    diffs = {2.0: {"SK_2_1": 0.2, "SK_3_1": 0.1}, 1.0: {"SK_2_1": -0.1, "SK_3_1": 0.0}}
    fig = scale_figures.mean_difference_by_scale(diffs)
    assert [t.name for t in fig.data] == ["1×", "2×"]
    assert list(fig.data[1].y) == [0.2, 0.1]
    weights = scale_figures.channel_weights_by_scale("SK_2_1", {1.5: np.array([0.4, 0.6])})
    assert list(weights.data[0].y) == [0.4, 0.6] and weights.data[0].name == "1.5×"


def test_gradcam_overlay_puts_the_heatmap_on_the_image_grid():
    image = Image.new("RGB", (8, 6), (10, 200, 30))
    heat = np.linspace(0, 1, 48).reshape(6, 8)
    fig = attribution_figures.gradcam_overlay(image, heat, "cam")
    assert fig.data[0].type == "image" and np.asarray(fig.data[0].z).shape == (6, 8, 3)
    np.testing.assert_allclose(fig.data[1].z, heat)
    with pytest.raises(ValueError, match="same size"):
        attribution_figures.gradcam_overlay(image, heat.T, "cam")


def test_attribution_scatter_and_knockout():
    fig = attribution_figures.attribution_scatter("SE_5_2", np.array([0.2, 0.9]), np.array([-1.0, 3.0]),
                                                  1.0, "tench")
    assert list(fig.data[0].x) == [0.2, 0.9] and "ρ = +1.00" in fig.layout.title.text
    nan = attribution_figures.attribution_scatter("SE_5_2", np.ones(2), np.ones(2), float("nan"), "tench")
    assert "ρ = n/a" in nan.layout.title.text
    before = [TopClass(0, "tench", 0.6), TopClass(6, "eel", 0.3)]
    after = [TopClass(6, "eel", 0.5), TopClass(7, "coho", 0.2)]
    ko = attribution_figures.knockout_bars(before, after, ["SE_5_2"])
    assert list(ko.data[0].y) == ["coho", "eel", "tench"]
    assert list(ko.data[0].x) == [0, 0.3, 0.6] and list(ko.data[1].x) == [0.2, 0.5, 0]
    assert ko.data[1].text[2] == "not in top-5"


def test_step_panels_marks_the_channel_only_in_per_channel_steps():
    fig = step_panels([("z", [("z", np.arange(8.0))]), ("hidden", [("h", np.arange(2.0))]),
                       ("select", [("a", np.full(8, 0.4)), ("b", np.full(8, 0.6))])], "steps", highlight=3)
    assert [t.name for t in fig.data] == ["z", "h", "a", "b"]
    assert [s.x0 + (s.x1 - s.x0) / 2 for s in fig.layout.shapes] == [3, 3]  # not in the 2-unit hidden panel
    assert fig.data[2].type == "scatter" and fig.data[2].line.color != fig.data[3].line.color  # distinct lines


def test_step_panels_give_each_panel_with_several_series_its_own_legend_beside_it():
    fig = step_panels([("split", [("GAP(3×3)", np.ones(8)), ("GAP(5×5)", np.zeros(8))]), ("fuse", [("s", np.ones(8))]),
                       ("select", [("a", np.full(8, 0.4)), ("b", np.full(8, 0.6))])], "steps")
    # one legend per multi-series panel, naming only that panel's series; the one-series panel has none
    assert [t.legend for t in fig.data if t.showlegend] == ["legend", "legend", "legend2", "legend2"]
    assert fig.data[2].showlegend is False
    for legend, axis in (("legend", "yaxis"), ("legend2", "yaxis3")):
        assert fig.layout[legend].x >= 1  # beside the plot area, not over it
        assert fig.layout[legend].y == pytest.approx(fig.layout[axis].domain[1])  # at its own panel's top


def test_before_and_after_maps_share_one_colour_scale_centred_on_zero():
    from attnviz.figures.walkthrough import feature_maps

    before = np.array([[-3.0, 1.0], [0.5, -0.2]])
    after = 0.5 * before  # a gate of 0.5: every value halfway to 0
    fig = feature_maps(before, after, 7, ("before", "after"))
    left, right = fig.data
    # one scale for both (not each map's own range), symmetric around 0 because u has negatives:
    # written out by hand from the two maps' extremes (-3 and 1)
    assert (left.zmin, left.zmax) == (right.zmin, right.zmax) == (-3.0, 3.0)
    assert left.colorscale == right.colorscale
    positive = feature_maps(np.array([[0.0, 2.0]]), np.array([[0.0, 1.0]]), 7, ("before", "after"))
    assert (positive.data[0].zmin, positive.data[0].zmax) == (0.0, 2.0) == (positive.data[1].zmin, positive.data[1].zmax)


def test_figures_use_the_font_stack_of_the_readers_language_and_hover_fills_only_its_own_fields():
    import plotly.graph_objects as go

    from attnviz.figures.style import finish, hover
    from attnviz.i18n import language

    with language("ja"):
        family = finish(go.Figure(), "t").layout.font.family
    # Japanese fonts first, then the Chinese ones: CJK renders in the chart and in its PNG/SVG export.
    assert family.index("Noto Sans CJK JP") < family.index("Noto Sans CJK SC")
    with language("zh"):
        fig = finish(go.Figure(), "t")
    assert fig.layout.font.family.index("Noto Sans CJK SC") < fig.layout.font.family.index("Noto Sans CJK JP")
    assert fig.layout.hoverlabel.font.family == fig.layout.font.family
    # A translated hover template keeps plotly's %{...} fields: only {name} is filled in.
    assert hover("通道 %{x}：{name} = %{y:.3f}", name="a", x="no") == "通道 %{x}：a = %{y:.3f}"


def test_compare_models_gives_se_s_and_sk_b_separate_axes_with_their_meaning():
    """Two models of two kinds (built by hand): SE's s and SK's b are drawn on different y axes,
    each titled with its value and meaning; only the selection has a neutral line (1/2 for b)."""
    from attnviz.figures.models import stage_statistics
    from attnviz.analysis.model_comparison import GateStat, ModelSummary, StageStat

    def model(name: str, kind: str, value: str, paths: int, means: list[float]) -> ModelSummary:
        stages = [StageStat(stage=i + 2, label=f"stage {i + 2}", kind=kind, value=value, depth=i / 3,
                            gates=[f"G{i}"], mean=m, std=0.01, neutral=1.0 if paths == 1 else 1 / paths, paths=paths)
                  for i, m in enumerate(means)]
        return ModelSummary(name=name, source="bundled", kinds=[kind], gates=len(means), top=[],
                            stages=stages, gate_stats=[GateStat(f"G{i}", i + 2, i / 3, m) for i, m in enumerate(means)])

    fig = stage_statistics([model("se_m", "se", "s", 1, [0.5, 0.45, 0.6, 0.3]),
                            model("sk_m", "sk", "b", 2, [0.52, 0.49, 0.5, 0.55])])
    lines = {t.name: t for t in fig.data if t.mode == "lines+markers"}
    assert list(lines) == ["se_m (s)", "sk_m (b)"]
    se_axis, sk_axis = (lines[n].yaxis or "y" for n in ("se_m (s)", "sk_m (b)"))
    assert se_axis != sk_axis
    # every trace of a model (its gate dots too) sits on its kind's axis
    assert {t.yaxis or "y" for t in fig.data if t.name.startswith("se_m")} == {se_axis}
    assert {t.yaxis or "y" for t in fig.data if t.name.startswith("sk_m")} == {sk_axis}

    def axis(ref: str):
        return fig.layout["yaxis" + ref[1:]]

    assert axis(se_axis).title.text.replace("<br>", " ") == "s (0 silences, 1 keeps)"
    assert axis(sk_axis).title.text.replace("<br>", " ") == "b (0.5 = equal shares)"
    titles = [a.text.replace("<br>", " ") for a in fig.layout.annotations]
    assert "Squeeze-and-Excitation: excitation s" in titles and "Selective Kernel: b (5×5 weight)" in titles
    # SK's equal shares (1/2) dotted in its own panel; no neutral line for the sigmoid gate
    assert {(s.yref, s.y0) for s in fig.layout.shapes} == {(sk_axis, 0.5)}
