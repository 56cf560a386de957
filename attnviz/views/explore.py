"""Page 1, "Explore an image": which charts to show for the model's attention kinds."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..figures import excitation, prediction, selection, split
from ..inference import ImageAnalysis
from ..zoo import LoadedModel
from .chart import Chart


@dataclass
class ExploreOptions:
    """The page's display choices; none of them needs a new forward pass."""

    se_block: str | None = None          # block shown as bars (default: the deepest)
    sort_channels: bool = False
    distribution: str = "violin"         # 'violin' | 'box'
    sk_unit: str | None = None           # unit whose b histogram is shown (default: the deepest)
    split_unit: str | None = None        # split attention unit shown as a heatmap (default: deepest)


def prediction_chart(loaded: LoadedModel, analysis: ImageAnalysis, k: int = 5) -> Chart:
    fig = prediction.top_k_bars(analysis.top(loaded.class_names, k), title=f"Top-{k}: {analysis.name}")
    return Chart(f"top{k}_{analysis.name}", fig)


def explore_charts(loaded: LoadedModel, analyses: Sequence[ImageAnalysis],
                   options: ExploreOptions | None = None) -> list[Chart]:
    """The attention charts of page 1 for one or more images (overlaid where a chart allows).

    SE-style gates: a heatmap per image, the per-block distribution and one block's bars.
    SK units: the a-vs-b scatter per unit, the mean difference across depth, b's histogram.
    Split attention: the balance of splits across depth and one unit's weights per image.
    """
    options = options or ExploreOptions()
    gates = loaded.gates
    charts: list[Chart] = []
    se = excitation.se_gates(gates)
    if se:
        for analysis in analyses:
            charts.append(Chart(f"excitation_heatmap_{analysis.name}",
                                excitation.excitation_heatmap(gates, analysis),
                                "Each row is one SE block, from the input (top) to the output; "
                                "colour is the excitation s of a channel."))
        charts.append(Chart("excitation_distribution",
                            excitation.excitation_distribution(gates, analyses, options.distribution),
                            "Distribution of s over the channels of each block (box: quartiles, line: mean).",
                            wide=False))
        block = loaded.gate(options.se_block) if options.se_block else se[-1]
        charts.append(Chart(f"excitation_bars_{block.name}",
                            excitation.block_bars(block, analyses, sort=options.sort_channels), wide=False))
    sk = selection.sk_gates(gates)
    if sk:
        charts.append(Chart("selection_scatter", selection.selection_scatter(gates, analyses),
                            "With two paths a + b = 1, so the points lie on the line a + b = 1; "
                            "above the dotted diagonal a channel weighs the 5×5 kernel more."))
        charts.append(Chart("mean_difference", selection.mean_difference_by_depth(gates, analyses),
                            "SKNet's mean attention difference, mean over channels of b − a: above 0 "
                            "the unit prefers the 5×5 kernel.", wide=False))
        unit = loaded.gate(options.sk_unit) if options.sk_unit else sk[-1]
        charts.append(Chart(f"b_histogram_{unit.name}", selection.b_histogram(unit, analyses),
                            "How many channels give the 5×5 kernel each weight b (right of 0.5: the "
                            "5×5 kernel wins).", wide=False))
    splat = split.split_gates(gates)
    if splat:
        charts.append(Chart("split_balance", split.split_balance_by_depth(gates, analyses)))
        unit = loaded.gate(options.split_unit) if options.split_unit else splat[-1]
        for analysis in analyses:
            charts.append(Chart(f"split_weights_{unit.name}_{analysis.name}",
                                split.split_weights(unit, analysis)))
    return charts
