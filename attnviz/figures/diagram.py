"""Pictures of one attention unit drawn from a real forward pass: the flow of a channel gate (SE,
ECA, CBAM's channel half) or of a selection between paths (SK) as labelled boxes, in the words of
its kind's view, above the values it computed for one image (the home page's pictures)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ..gates import ChannelWalkthrough, SelectionWalkthrough, Walkthrough
from ..views.kinds import ChannelGateView, view_of
from ..i18n import _
from .style import PATH_COLORS, finish, hover

_BOX = dict(showarrow=False, xanchor="center", bordercolor="#555", borderwidth=1, borderpad=6, bgcolor="#f4f6fa",
            font=dict(size=12))


def _flow(fig: go.Figure, boxes: Sequence[str]) -> None:
    """Numbered boxes above the plot (paper coordinates), two to a row and read like text, with an
    arrow between the two of a row: four boxes in one row do not fit a half-width chart."""
    for i, text in enumerate(boxes):
        row, col = divmod(i, 2)
        x, y = (0.22, 0.78)[col], 0.93 - 0.19 * row  # below the title, whose lines end at the paper top
        fig.add_annotation(x=x, y=y, xref="paper", yref="paper", yanchor="top", text=f"{i + 1}. {text}", **_BOX)
        if col:
            fig.add_annotation(x=0.5, y=y - 0.05, xref="paper", yref="paper", yanchor="top", text="→",
                               showarrow=False, font=dict(size=20, color="#555"))
    fig.update_yaxes(domain=[0, 0.5])


def _figure() -> go.Figure:
    return go.Figure()


def channel_diagram(w: Walkthrough, shown: int = 48) -> go.Figure:
    """A channel gate: squeeze, excitation, scale (its kind's formulas), above s for the first
    ``shown`` channels."""
    assert isinstance(w, ChannelWalkthrough), w.kind
    fig = _figure()
    c = w.channels
    words = view_of(w.kind)
    assert isinstance(words, ChannelGateView), w.kind
    _flow(fig, words.diagram_boxes(w))
    n = min(shown, c)
    fig.add_trace(go.Bar(x=np.arange(n), y=w.s[:n], marker_color="#1f77b4", name="s",
                         hovertemplate=_("channel %{x}: s = %{y:.3f}<extra></extra>")))
    fig.add_hline(y=1, line=dict(color="#999", dash="dot", width=1))
    fig.update_xaxes(title_text=_("channel (first {shown} of {channels})").format(shown=n, channels=c))
    fig.update_yaxes(title_text=_("excitation s"), range=[0, 1.05])
    fig.update_layout(showlegend=False)
    return finish(fig, _(words.diagram_title).format(gate=w.gate.name),
                  height=480)


def selection_diagram(w: Walkthrough, shown: int = 48) -> go.Figure:
    """A selection between paths: split, fuse, select, above a and b for the first ``shown``
    channels."""
    assert isinstance(w, SelectionWalkthrough), w.kind
    fig = _figure()
    c = w.channels
    words = view_of(w.kind).selection_words
    assert words is not None, w.kind
    _flow(fig, [_(words.diagram_split), _("fuse<br>mean of U₁ + U₂"), _("select<br>softmax: a + b = 1"),
                _("output<br>V = a·U₁ + b·U₂")])
    n = min(shown, c)
    for name, values, colour in ((words.a_axis, w.a[:n], PATH_COLORS[0]), (words.b_axis, w.b[:n], PATH_COLORS[1])):
        fig.add_trace(go.Bar(x=np.arange(n), y=values, name=name, marker_color=colour,
                             hovertemplate=hover(_("channel %{x}: {name} = %{y:.3f}<extra></extra>"), name=name)))
    fig.add_hline(y=0.5, line=dict(color="#333", dash="dot", width=1))
    fig.update_layout(barmode="stack")  # the legend below the plot, as every chart (style.finish)
    fig.update_xaxes(title_text=_("channel (first {shown} of {channels})").format(shown=n, channels=c))
    fig.update_yaxes(title_text=_("share of each kernel"), range=[0, 1])
    return finish(fig, _(words.diagram_title).format(gate=w.gate.name), height=480)
