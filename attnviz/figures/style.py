"""Shared look of every figure: readable when projected in a classroom, consistent colours."""
from __future__ import annotations

import re

import plotly.colors as pc
import plotly.graph_objects as go

from ..i18n import font_family

#: Gate values are probabilities in [0, 1]; a perceptually uniform scale keeps them comparable.
VALUE_SCALE = "Viridis"
#: 3x3 path (a) and dilated "5x5" path (b) of an SK unit, the same everywhere.
PATH_COLORS = ("#1f77b4", "#d62728")
REFERENCE_COLOR = "#222222"
FONT_SIZE = 14


def series_colors(n: int) -> list[str]:
    """n distinct colours for images, classes or scales (qualitative palette, cycled)."""
    palette = pc.qualitative.Plotly if n <= 10 else pc.qualitative.Alphabet
    return [palette[i % len(palette)] for i in range(n)]


def hover(template: str, **values: object) -> str:
    """A (translated) hover template with its ``{name}`` fields filled in; plotly's own ``%{...}``
    fields are left alone (``str.format`` would take them for its own)."""
    for key, value in values.items():
        template = re.sub(r"(?<!%)\{" + re.escape(key) + r"\}", lambda _m, v=value: str(v), template)
    return template


def finish(fig: go.Figure, title: str, height: int | None = None, **layout) -> go.Figure:
    """Common layout: white template, a title, large fonts, compact margins; the font stack of the
    reader's language, so that Chinese and Japanese render in the chart and in its PNG/SVG export."""
    legends = [t for t in fig.data if getattr(t, "showlegend", None) is not False and t.name]
    if len(legends) > 1 and "legend" not in layout:
        # Several series: a horizontal legend between the title and the plot keeps the plot wide
        # (a legend at the side squeezes half-width charts).
        layout["legend"] = dict(orientation="h", x=0, xanchor="left", y=1.0, yanchor="bottom")
        layout.setdefault("margin", dict(l=60, r=20, t=100, b=50))
    layout = {"margin": dict(l=60, r=20, t=60, b=50), **layout}
    family = font_family()
    fig.update_layout(template="plotly_white", title=dict(text=title, x=0.01, xanchor="left"),
                      font=dict(size=FONT_SIZE, family=family),
                      hoverlabel=dict(font=dict(size=FONT_SIZE, family=family)), **layout)
    if height:
        fig.update_layout(height=height)
    return fig
