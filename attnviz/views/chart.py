"""A chart as the app shows it: a figure with a stable key, a file name and a caption."""
from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go

from ..i18n import N_, _

UNTRAINED = N_("untrained: random weights")  # translated where used: _(UNTRAINED)


@dataclass
class Chart:
    key: str          # stable widget key and download file name stem
    figure: go.Figure
    caption: str = ""
    wide: bool = True  # False: may share a row with the next narrow chart


def mark_untrained(fig: go.Figure) -> go.Figure:
    """Say on the figure itself (so also in every download) that the model is untrained."""
    title = fig.layout.title.text or ""
    label = _(UNTRAINED)
    if label not in title:
        fig.update_layout(title_text=f"{title} [{label}]".strip())
    return fig
