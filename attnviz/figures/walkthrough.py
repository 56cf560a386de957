"""The steps of one gate for one image: one panel per step, and the chosen channel's feature map
before and after the gate."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..i18n import _
from .style import PATH_COLORS, finish, subplot_titles

Step = tuple[str, Sequence[tuple[str, np.ndarray]]]  # (panel title, [(series name, values)])
#: Distinct colours for the series of a panel (never two series of one panel alike).
_COLOURS = ["#1f77b4", PATH_COLORS[1], "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def step_panels(steps: Sequence[Step], title: str, highlight: int | None = None) -> go.Figure:
    """One panel per step. A single series is drawn as bars; several as lines (overlaid bars hide
    each other), each in its own colour. ``highlight`` marks a channel, with its index, in every
    panel whose vectors are channel-sized (the first panel's length)."""
    titles = subplot_titles([s[0] for s in steps])
    fig = make_subplots(rows=len(steps), cols=1, subplot_titles=titles,
                        vertical_spacing=(0.32 + 0.04 * sum(t.count("<br>") for t in titles)) / len(steps))
    width = len(steps[0][1][0][1])
    colour = iter(_COLOURS * 4)
    for row, (_panel, series) in enumerate(steps, start=1):
        per_channel = all(len(np.ravel(v)) == width for _name, v in series)
        for name, values in series:
            v = np.asarray(values, dtype=float).reshape(-1)
            c = next(colour)
            common = dict(x=np.arange(len(v)), y=v, name=name, showlegend=len(series) > 1,
                          hovertemplate="%{x}: %{y:.4g}<extra>" + name + "</extra>")
            if len(series) == 1:
                fig.add_trace(go.Bar(**common, marker_color=c, marker_line_width=0), row=row, col=1)
            else:
                fig.add_trace(go.Scatter(**common, mode="lines", line=dict(color=c, width=1.4)), row=row, col=1)
        fig.update_xaxes(title_text=_("channel") if per_channel else _("unit"), title_standoff=2, row=row, col=1)
        fig.update_yaxes(title_text=_("value"), row=row, col=1)
        if highlight is not None and per_channel:
            fig.add_vrect(x0=highlight - 0.5 - width / 200, x1=highlight + 0.5 + width / 200, fillcolor="#d62728",
                          opacity=0.25, line_width=0, row=row, col=1)
            # Inside the panel's top (not above it, where the panel's title is), on the side of the
            # marked channel that has room.
            fig.add_annotation(x=highlight, y=0.98, yref="y domain" if row == 1 else f"y{row} domain",
                               text=f"c = {highlight}", showarrow=False, font=dict(color="#d62728", size=12),
                               yanchor="top", xanchor="right" if highlight > width / 2 else "left",
                               bgcolor="rgba(255,255,255,0.8)", row=row, col=1)
    fig.update_layout(bargap=0)
    return finish(fig, title, height=80 + 230 * len(steps), margin=dict(l=60, r=150, t=70, b=40),
                  legend=dict(orientation="v", x=1.01, xanchor="left", y=1, yanchor="top"))


def feature_maps(before: np.ndarray, after: np.ndarray, channel: int, labels: tuple[str, str]) -> go.Figure:
    """Channel ``channel`` of the feature map before and after the gate, side by side, on one
    colour scale (so a gate that scales the channel down shows as a paler map)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=subplot_titles(labels, 2), horizontal_spacing=0.08)
    low = float(min(before.min(), after.min()))
    high = float(max(before.max(), after.max()))
    for col, image in enumerate((before, after), start=1):
        fig.add_trace(go.Heatmap(z=image, zmin=low, zmax=high, colorscale="Viridis", showscale=col == 2,
                                 colorbar=dict(title=_("activation")),
                                 hovertemplate=_("row %{y}, column %{x}: %{z:.3f}<extra></extra>")), row=1, col=col)
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{col if col > 1 else ''}", title_text=_("row"),
                         row=1, col=col)
        fig.update_xaxes(title_text=_("column"), row=1, col=col)
    return finish(fig, _("Channel {channel}: the feature map before and after the gate").format(channel=channel),
                  height=360)
