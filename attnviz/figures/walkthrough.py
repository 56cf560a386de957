"""The steps of one gate for one image: one panel per step, and the chosen channel's feature map
before and after the gate."""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..i18n import _
from .style import PATH_COLORS, finish, panel_legends, subplot_titles

Step = tuple[str, Sequence[tuple[str, np.ndarray]]]  # (panel title, [(series name, values)])
#: Colours of the one-series panels (bars), in turn.
_COLOURS = ["#1f77b4", PATH_COLORS[1], "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
#: Colours of the series of a panel with several, by position: the first path (a) and the second
#: (b) in their colours in every panel and every chart, then the rest; never two alike in a panel.
_SERIES_COLOURS = [PATH_COLORS[0], PATH_COLORS[1], "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


@dataclass(frozen=True)
class SharedScale:
    """One colour scale for maps drawn side by side: [low, high], diverging around 0 (low = -high)
    when any value is negative, else from 0 up."""

    low: float
    high: float
    diverging: bool

    @property
    def colorscale(self) -> str:
        return "RdBu_r" if self.diverging else "Viridis"


def shared_scale(*maps: np.ndarray) -> SharedScale:
    """The colour scale every map in ``maps`` is drawn on: it spans all of them, so no map looks
    brighter merely from a range of its own; centred on 0 when there are negative values, so a
    map scaled toward 0 (a gate below 1) looks paler whatever its sign."""
    low = min(float(np.min(m)) for m in maps)
    high = max(float(np.max(m)) for m in maps)
    if low < 0:
        reach = max(-low, high)
        return SharedScale(-reach, reach, True)
    return SharedScale(0.0, high if high > 0 else 1.0, False)


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
        for position, (name, values) in enumerate(series):
            v = np.asarray(values, dtype=float).reshape(-1)
            c = next(colour) if len(series) == 1 else _SERIES_COLOURS[position % len(_SERIES_COLOURS)]
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
    fig.update_layout(bargap=0, **panel_legends(fig, [len(series) for _panel, series in steps]))
    return finish(fig, title, height=80 + 230 * len(steps), margin=dict(l=60, r=150, t=70, b=40))


def feature_maps(before: np.ndarray, after: np.ndarray, channel: int, labels: tuple[str, str]) -> go.Figure:
    """Channel ``channel`` of the feature map before and after the gate, side by side, on one
    colour scale (``shared_scale``: a gate that scales the channel toward 0 shows as a paler map)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=subplot_titles(labels, 2), horizontal_spacing=0.08)
    scale = shared_scale(before, after)
    for col, image in enumerate((before, after), start=1):
        fig.add_trace(go.Heatmap(z=image, zmin=scale.low, zmax=scale.high, colorscale=scale.colorscale,
                                 showscale=col == 2,
                                 colorbar=dict(title=_("activation")),
                                 hovertemplate=_("row %{y}, column %{x}: %{z:.3f}<extra></extra>")), row=1, col=col)
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{col if col > 1 else ''}", title_text=_("row"),
                         row=1, col=col)
        fig.update_xaxes(title_text=_("column"), row=1, col=col)
    return finish(fig, _("Channel {channel}: the feature map before and after the gate").format(channel=channel),
                  height=360)
