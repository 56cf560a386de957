"""The model's top-k prediction for an image as horizontal bars."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import plotly.graph_objects as go

from .literal import chart_text
from ..i18n import _
from .style import finish

if TYPE_CHECKING:
    from ..analysis.inference import TopClass


def top_k_bars(top: Sequence[TopClass], title: str | None = None, color: str = "#1f77b4") -> go.Figure:
    """top: the classes as ImageAnalysis.top returns them, most likely first;
    title: by default "Top-5 prediction" in the reader's language."""
    labels = [chart_text(row.label) for row in top][::-1]  # class names may be a profile's
    probs = [row.prob for row in top][::-1]
    fig = go.Figure(go.Bar(x=probs, y=labels, orientation="h", marker_color=color,
                           text=[f"{p:.1%}" for p in probs], textposition="auto",
                           hovertemplate="%{y}: %{x:.2%}<extra></extra>"))
    fig.update_xaxes(title=_("probability"), range=[0, 1], tickformat=".0%")
    fig.update_yaxes(automargin=True, title=_("class"))
    return finish(fig, title or _("Top-5 prediction"), height=80 + 44 * len(labels), margin=dict(l=10, r=20, t=50, b=40))
