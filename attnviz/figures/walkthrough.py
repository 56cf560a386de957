"""The steps of one gate for one image, as stacked bar panels (one panel per step)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import PATH_COLORS, finish

Step = tuple[str, Sequence[tuple[str, np.ndarray]]]  # (panel title, [(series name, values)])


def step_panels(steps: Sequence[Step], title: str, highlight: int | None = None) -> go.Figure:
    """One panel per step, each a bar series per named vector; ``highlight`` marks a channel
    in every panel whose vectors are channel-sized (the first panel's length)."""
    fig = make_subplots(rows=len(steps), cols=1, subplot_titles=[s[0] for s in steps], vertical_spacing=0.09)
    width = len(steps[0][1][0][1])
    colours = ["#7f7f7f", *PATH_COLORS, "#2ca02c", "#9467bd"]
    for row, (_, series) in enumerate(steps, start=1):
        for i, (name, values) in enumerate(series):
            v = np.asarray(values, dtype=float).reshape(-1)
            colour = colours[i % len(colours)] if len(series) > 1 else "#1f77b4"
            fig.add_trace(go.Bar(x=np.arange(len(v)), y=v, name=name, marker_color=colour, marker_line_width=0,
                                 showlegend=len(series) > 1, opacity=0.75 if len(series) > 1 else 1,
                                 hovertemplate="%{x}: %{y:.4g}<extra>" + name + "</extra>"), row=row, col=1)
        if highlight is not None and all(len(np.ravel(v)) == width for _, v in series):
            fig.add_vline(x=highlight, line=dict(color="#d62728", width=1.5, dash="dot"), row=row, col=1)
    fig.update_layout(barmode="overlay", bargap=0, legend=dict(orientation="h", y=1.06, x=1, xanchor="right"))
    return finish(fig, title, height=60 + 170 * len(steps))
