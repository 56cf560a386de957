"""The Live page's chart: the last seconds of a live stream, one line per series (each SK unit's
b − a, or the chosen gate's mean value), so that a movement toward the camera is a rising line."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from ..i18n import _
from .style import finish, hover, series_colors


def history_lines(times: np.ndarray, series: Mapping[str, np.ndarray], title: str, y_title: str,
                  zero_line: bool = False) -> go.Figure:
    """times: seconds relative to now (≤ 0); series: name -> values at those times (NaN: no value)."""
    fig = go.Figure()
    for color, (name, values) in zip(series_colors(len(series)), series.items(), strict=True):
        # plain lists: a few hundred points, readable in the page as numbers (not base64 typed arrays)
        fig.add_trace(go.Scatter(x=np.asarray(times).tolist(), y=np.asarray(values).tolist(), mode="lines", name=name,
                                 line=dict(color=color, width=2),
                                 hovertemplate=hover(_("{name}: %{y:.3f} at %{x:.1f} s"), name=name) + "<extra></extra>"))
    if zero_line:
        fig.add_hline(y=0, line=dict(color="#888888", width=1, dash="dot"))
    fig.update_xaxes(title=_("seconds ago"), range=[float(min(times.min(), -1.0)) if len(times) else -10.0, 0])
    fig.update_yaxes(title=y_title)
    return finish(fig, title, height=360)
