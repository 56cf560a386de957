"""Views of the SKNet scale experiment: how the weight of path b (SK's larger kernel, ResNeSt's
second split: the kind's view says which) moves as objects grow."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
import plotly.colors as pc

from ..i18n import _
from .style import REFERENCE_COLOR, finish


def scale_colors(scales) -> list[str]:
    """Light to dark with growing zoom, so the order of the scales reads off the colour."""
    n = len(scales)
    return pc.sample_colorscale("Plasma", [0.1 + 0.75 * i / max(n - 1, 1) for i in range(n)])


def channel_weights_by_scale(gate: str, weights: Mapping[float, np.ndarray], value_label: str = "b",
                             title: str | None = None) -> go.Figure:
    """One line per zoom factor: a unit's per-channel weight of path b (mean over images); the
    labels are the kind's (its view's ``path_labels``), given translated."""
    fig = go.Figure()
    scales = sorted(weights)
    for colour, scale in zip(scale_colors(scales), scales, strict=True):
        w = np.asarray(weights[scale])
        fig.add_trace(go.Scatter(x=np.arange(len(w)), y=w, mode="lines", name=f"{scale:g}×",
                                 line=dict(color=colour, width=1.8),
                                 hovertemplate=_("channel %{x}: %{y:.3f}<extra>%{fullData.name}</extra>")))
    fig.add_hline(y=0.5, line=dict(color=REFERENCE_COLOR, dash="dot", width=1))
    fig.update_xaxes(title=_("channel"))
    values = np.concatenate([np.asarray(w, dtype=float).reshape(-1) for w in weights.values()])
    pad = 0.05 * max(float(np.ptp(values)), 0.02)
    fig.update_yaxes(title=value_label, range=[float(values.min()) - pad, float(values.max()) + pad])
    fig.update_layout(legend_title_text=_("zoom"))
    return finish(fig, title or f"{gate}: {value_label}",
                  height=380)


def mean_difference_by_scale(diffs: Mapping[float, Mapping[str, float]], title: str | None = None) -> go.Figure:
    """One line per zoom factor: mean attention difference (b − a) of every unit in depth order."""
    fig = go.Figure()
    scales = sorted(diffs)
    for colour, scale in zip(scale_colors(scales), scales, strict=True):
        units = list(diffs[scale])
        fig.add_trace(go.Scatter(x=units, y=[diffs[scale][u] for u in units], mode="lines+markers",
                                 name=f"{scale:g}×", line=dict(color=colour, width=2.2), marker=dict(size=8),
                                 hovertemplate="%{x}: mean(b − a) = %{y:.4f}<extra>%{fullData.name}</extra>"))
    fig.add_hline(y=0, line=dict(color=REFERENCE_COLOR, dash="dot", width=1))
    fig.update_xaxes(title=_("unit (input → output)"))
    fig.update_yaxes(title=_("mean attention difference b − a"))
    fig.update_layout(legend_title_text=_("zoom"))
    return finish(fig, title or _("mean attention difference b − a"),
                  height=400)
