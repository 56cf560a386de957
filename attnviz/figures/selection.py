"""Charts of the SELECTION family (a choice between paths of different receptive fields, as in
SKNet): a_c (path 0) against b_c (path 1) per unit, the mean attention difference across depth,
each channel's split, and the distribution of b_c. What the paths are called comes from the
kind's view (``SelectionWords``).

a_c and b_c are the softmax weights of channel c; with two paths a_c + b_c = 1, so the SKNet
paper's mean attention difference mean_c(b_c - a_c) is 2 * mean(b) - 1.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .literal import chart_text
from ..gates import SELECTION, Gate
from ..errors import NothingToShow
from ..i18n import _
from ..analysis.inference import ImageAnalysis
from ..analysis.statistics import mean_attention_difference
from ..views.kinds import SelectionWords, view_of
from .style import PATH_COLORS, REFERENCE_COLOR, finish, hover, series_colors


def sk_gates(gates: Sequence[Gate]) -> list[Gate]:
    """The gates whose kind draws SELECTION charts and that have two or more paths, in depth order."""
    return [g for g in gates if g.kind.draws(SELECTION) and g.compares_paths]


def words_of(gate: Gate) -> SelectionWords:
    """What the kind of ``gate`` calls its two paths in these charts (its view's ``selection_words``)."""
    words = view_of(gate).selection_words
    if words is None:
        raise ValueError(f"{gate.name}: its kind ({gate.kind.name}) draws no selection charts")
    return words


def mean_difference(values: np.ndarray) -> float:
    """The SKNet paper's mean attention difference mean_c(b_c - a_c) of one unit
    (``stats.mean_attention_difference``)."""
    return float(mean_attention_difference(np.asarray(values, dtype=np.float64)))


def selection_scatter(gates: Sequence[Gate], analyses: Sequence[ImageAnalysis], columns: int = 4,
                      title: str | None = None) -> go.Figure:
    """One panel per unit: b_c (path 1) against a_c (path 0) for every channel, with the diagonal.

    Points above the diagonal are channels that give path b more weight.
    """
    units = sk_gates(gates)
    if not units:
        raise NothingToShow(_("the model has no unit with two or more paths to show"))
    words = words_of(units[0])
    columns = min(columns, len(units))
    rows = math.ceil(len(units) / columns)
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=[g.name for g in units],
                        horizontal_spacing=0.04, vertical_spacing=0.12 if rows > 1 else 0.1,
                        shared_xaxes=True, shared_yaxes=True)
    colours = series_colors(len(analyses))
    custom_names = [_("unit"), _("channel")]
    template = _(words.scatter_hover)
    for i, gate in enumerate(units):
        r, c = divmod(i, columns)
        fig.add_shape(type="line", x0=0, y0=0, x1=1, y1=1, line=dict(color=REFERENCE_COLOR, dash="dot", width=1),
                      row=r + 1, col=c + 1)
        for colour, analysis in zip(colours, analyses, strict=True):
            v = analysis.values[gate.name]
            fig.add_trace(go.Scattergl(
                x=v[0], y=v[1], mode="markers", name=chart_text(analysis.name), legendgroup=chart_text(analysis.name),
                showlegend=i == 0 and len(analyses) > 1, meta={"x": words.a_axis.replace("×", "x"), "y": words.b_axis.replace("×", "x"),
                                                               "custom": custom_names},
                marker=dict(color=colour, size=5, opacity=0.7),
                customdata=np.stack([np.full(len(v[0]), gate.name), np.arange(len(v[0]))], axis=1),
                hovertemplate=template),
                row=r + 1, col=c + 1)
    fig.update_xaxes(range=[-0.02, 1.02], dtick=0.5)
    fig.update_yaxes(range=[-0.02, 1.02], dtick=0.5)
    for c in range(columns):
        fig.update_xaxes(title_text=words.a_axis, row=rows, col=c + 1)
    for r in range(rows):
        fig.update_yaxes(title_text=words.b_axis, row=r + 1, col=1)
    return finish(fig, title or _(words.scatter_title),
                  height=80 + 230 * rows)


def mean_difference_by_depth(gates: Sequence[Gate], analyses: Sequence[ImageAnalysis],
                             title: str | None = None, dataset: dict[str, float] | None = None) -> go.Figure:
    """mean_c(b_c - a_c) of every unit in depth order, one line per image; ``dataset``: the same
    over a whole dataset (a profile), as a dashed reference."""
    units = sk_gates(gates)
    if not units:
        raise NothingToShow(_("the model has no unit with two or more paths to show"))
    words, names = words_of(units[0]), [g.name for g in units]
    fig = go.Figure()
    if dataset:
        fig.add_trace(go.Scatter(x=names, y=[dataset.get(n) for n in names], mode="lines+markers",
                                 name=_("dataset average"), line=dict(color=REFERENCE_COLOR, width=2, dash="dash"),
                                 hovertemplate=_("%{x}: dataset mean(b − a) = %{y:.4f}<extra></extra>")))
    for colour, analysis in zip(series_colors(len(analyses)), analyses, strict=True):
        fig.add_trace(go.Scatter(
            x=names, y=[mean_difference(analysis.values[n]) for n in names], mode="lines+markers",
            name=chart_text(analysis.name), line=dict(color=colour, width=2), marker=dict(size=8),
            hovertemplate="%{x}: mean(b − a) = %{y:.4f}<extra>%{fullData.name}</extra>"))
    fig.add_hline(y=0, line=dict(color=REFERENCE_COLOR, dash="dot", width=1))
    fig.update_xaxes(title=_(words.depth_axis))
    fig.update_yaxes(title=_("mean attention difference b − a"), zeroline=False)
    fig.update_layout(showlegend=len(analyses) > 1 or bool(dataset))
    return finish(fig, title or _(words.depth_title), height=380)


def selection_split(gate: Gate, analysis: ImageAnalysis, dataset_b: np.ndarray | None = None,
                    title: str | None = None) -> go.Figure:
    """Each channel's split between path a (below) and path b (above), as the kind names them,
    for one image, channels sorted by b; ``dataset_b``: the dataset's mean b of the same channel
    (a profile), as black ticks, so that this image's departures show."""
    v = np.asarray(analysis.values[gate.name], dtype=float)
    a, b = v[0], v[1]
    order = np.argsort(-b, kind="stable")
    x = [str(int(c)) for c in order]
    fig = go.Figure()
    channel, words = _("channel"), words_of(gate)
    paths = (("a", _(words.split_a), a[order], PATH_COLORS[0]),
             ("b", _(words.split_b), b[order], PATH_COLORS[1]))
    for symbol, name, values, colour in paths:
        fig.add_trace(go.Bar(x=x, y=values, name=name, marker_color=colour, marker_line_width=0,
                             meta={"x": channel},
                             hovertemplate=hover(_("channel %{x}: {name} = %{y:.3f}<extra></extra>"), name=symbol)))
    if dataset_b is not None:
        fig.add_trace(go.Scatter(x=x, y=np.asarray(dataset_b, dtype=float)[order], mode="markers",
                                 name=_("b, dataset average"), marker=dict(color=REFERENCE_COLOR, symbol="line-ew-open",
                                                                        size=9, line=dict(width=2)),
                                 meta={"x": channel},
                                 hovertemplate=_("channel %{x}: dataset b = %{y:.3f}<extra></extra>")))
    fig.add_hline(y=0.5, line=dict(color=REFERENCE_COLOR, dash="dot", width=1))
    fig.update_layout(barmode="stack", bargap=0)
    fig.update_xaxes(type="category", title=_(words.split_sorted), nticks=12)
    fig.update_yaxes(title=_("share of the channel's attention"), range=[0, 1])
    return finish(fig, title or _(words.split_chart_title).format(gate=gate.name, image=chart_text(analysis.name)),
                  height=400)


def b_histogram(gate: Gate, analyses: Sequence[ImageAnalysis], bins: int = 40,
                title: str | None = None) -> go.Figure:
    """Histogram of b_c (path 1's weight) over the channels of one unit."""
    fig = go.Figure()
    for colour, analysis in zip(series_colors(len(analyses)), analyses, strict=True):
        fig.add_trace(go.Histogram(
            x=analysis.values[gate.name][1], name=chart_text(analysis.name), marker_color=colour,
            opacity=0.65 if len(analyses) > 1 else 1.0,
            xbins=dict(start=0, end=1.0 + 1e-9, size=1.0 / bins),
            hovertemplate=_("b in %{x}: %{y} channels<extra>%{fullData.name}</extra>")))
    fig.add_vline(x=0.5, line=dict(color=REFERENCE_COLOR, dash="dot", width=1))
    fig.update_layout(barmode="overlay", showlegend=len(analyses) > 1)
    fig.update_xaxes(title=_(words_of(gate).b_weight), range=[0, 1])
    fig.update_yaxes(title=_("channels"))
    return finish(fig, title or _("{gate}: b over its {channels} channels").format(gate=gate.name, channels=gate.channels),
                  height=360)
