"""The Explore page's charts: which views apply is the gates' kinds' to say.

Overview charts span every gate (per image, or overlaid for several images); block charts show
one chosen gate, whatever its kind: a channel gate's excitation per channel, an SK unit's
histogram of b, a split-attention unit's weights.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..figures import excitation, prediction, selection, split
from ..gates import Gate
from ..inference import ImageAnalysis
from ..zoo import LoadedModel
from .chart import Chart


@dataclass
class ExploreOptions:
    """The page's display choices; none of them needs a new forward pass."""

    block: str | None = None             # the gate of the block charts (default: the deepest)
    sort_channels: bool = False
    distribution: str = "violin"         # 'violin' | 'box'


def prediction_chart(loaded: LoadedModel, analysis: ImageAnalysis, k: int = 5) -> Chart:
    fig = prediction.top_k_bars(analysis.top(loaded.class_names, k), title=f"Top-{k}: {analysis.name}")
    return Chart(f"top{k}_{analysis.name}", fig)


def overview_charts(loaded: LoadedModel, analyses: Sequence[ImageAnalysis],
                    options: ExploreOptions | None = None) -> list[Chart]:
    """Charts over every gate: channel gates as a heatmap per image and their per-block
    distribution; SK units as the a-vs-b scatter and the mean difference across depth; split
    attention as the balance of splits across depth."""
    options = options or ExploreOptions()
    gates = loaded.gates
    charts: list[Chart] = []
    if excitation.se_gates(gates):
        for analysis in analyses:
            charts.append(Chart(f"excitation_heatmap_{analysis.name}",
                                excitation.excitation_heatmap(gates, analysis),
                                "Each row is one SE block, from the input (top) to the output; "
                                "colour is the excitation s of a channel."))
        charts.append(Chart("excitation_distribution",
                            excitation.excitation_distribution(gates, analyses, options.distribution),
                            "Distribution of s over the channels of each block (box: quartiles, line: mean).",
                            wide=False))
    if selection.sk_gates(gates):
        charts.append(Chart("selection_scatter", selection.selection_scatter(gates, analyses),
                            "With two paths a + b = 1, so the points lie on the line a + b = 1; "
                            "above the dotted diagonal a channel weighs the 5×5 kernel more."))
        charts.append(Chart("mean_difference", selection.mean_difference_by_depth(gates, analyses),
                            "SKNet's mean attention difference, mean over channels of b − a: above 0 "
                            "the unit prefers the 5×5 kernel.", wide=False))
    if split.split_gates(gates):
        charts.append(Chart("split_balance", split.split_balance_by_depth(gates, analyses)))
    return charts


def block_charts(gate: Gate, analyses: Sequence[ImageAnalysis], options: ExploreOptions | None = None) -> list[Chart]:
    """The charts of one gate, as its kind calls for."""
    options = options or ExploreOptions()
    if gate.kind.channel_gate:
        return [Chart(f"excitation_bars_{gate.name}",
                      excitation.block_bars(gate, analyses, sort=options.sort_channels), wide=False)]
    if gate.kind.kernel_selection:
        return [Chart(f"b_histogram_{gate.name}", selection.b_histogram(gate, analyses),
                      "How many channels give the 5×5 kernel each weight b (right of 0.5: the "
                      "5×5 kernel wins).", wide=False)]
    if gate.kind.split_attention:
        return [Chart(f"split_weights_{gate.name}_{a.name}", split.split_weights(gate, a)) for a in analyses]
    return []


def default_block(loaded: LoadedModel) -> Gate:
    """The gate shown by default: the deepest."""
    return loaded.gates[-1]


def explore_charts(loaded: LoadedModel, analyses: Sequence[ImageAnalysis],
                   options: ExploreOptions | None = None) -> list[Chart]:
    """Every chart of the page: the overview, then the chosen block's (default: the deepest)."""
    options = options or ExploreOptions()
    gate = loaded.gate(options.block) if options.block else default_block(loaded)
    return overview_charts(loaded, analyses, options) + block_charts(gate, analyses, options)
