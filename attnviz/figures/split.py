"""ResNeSt split-attention views: the radix softmax weights of each split attention unit.

A split attention unit with radix R weighs R feature-map splits per channel with a softmax
across the splits: weights (R, C) that sum to 1 over R for every channel.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ..gates import SPLITS, Gate
from ..i18n import _
from ..analysis.inference import ImageAnalysis
from .style import VALUE_SCALE, finish, series_colors


def split_gates(gates: Sequence[Gate]) -> list[Gate]:
    """Split attention gates in depth order."""
    return [g for g in gates if g.kind.draws(SPLITS)]


def split_weights(gate: Gate, analysis: ImageAnalysis, title: str | None = None) -> go.Figure:
    """One unit's weights as a splits x channels heatmap."""
    v = analysis.values[gate.name]
    fig = go.Figure(go.Heatmap(
        z=v, x=np.arange(v.shape[1]), y=[_("split {number}").format(number=r + 1) for r in range(v.shape[0])],
        zmin=0, zmax=1, colorscale=VALUE_SCALE, colorbar=dict(title=_("weight")), name=analysis.name,
        hovertemplate=_("%{y}, channel %{x}: weight %{z:.3f}<extra></extra>")))
    fig.update_xaxes(title=_("channel"))
    fig.update_yaxes(title=_("split"))
    return finish(fig, title or _("{gate}: split weights of every channel — {image}").format(gate=gate.name,
                                                                                            image=analysis.name),
                  height=160 + 50 * v.shape[0])


def split_balance_by_depth(gates: Sequence[Gate], analyses: Sequence[ImageAnalysis],
                           title: str | None = None) -> go.Figure:
    """Mean weight of each split per unit in depth order: one line per (image, split)."""
    units = split_gates(gates)
    names = [g.name for g in units]
    radix = max(g.paths for g in units)
    dashes = ("solid", "dash", "dot", "dashdot")
    fig = go.Figure()
    for colour, analysis in zip(series_colors(len(analyses)), analyses, strict=True):
        for r in range(radix):
            means = [float(analysis.values[n][r].mean()) if analysis.values[n].shape[0] > r else None
                     for n in names]
            label = (_("split {number}").format(number=r + 1) if len(analyses) == 1
                     else _("{image}, split {number}").format(image=analysis.name, number=r + 1))
            fig.add_trace(go.Scatter(x=names, y=means, mode="lines+markers", name=label,
                                     line=dict(color=colour, dash=dashes[r % len(dashes)], width=2),
                                     hovertemplate=_("%{x}: mean weight %{y:.3f}<extra>%{fullData.name}</extra>")))
    fig.update_xaxes(title=_("split attention unit (input → output)"))
    fig.update_yaxes(title=_("mean weight over channels"), range=[0, 1])
    return finish(fig, title or _("Split attention: mean weight of each split across depth"), height=360)
