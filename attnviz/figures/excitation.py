"""SE excitation views: every block as a layers x channels heatmap, per-block distributions,
and one block's channels as bars."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from .literal import chart_text
from ..gates import EXCITATION, Gate
from ..errors import InvalidChoice, NothingToShow
from ..i18n import _
from ..analysis.inference import ImageAnalysis
from .style import REFERENCE_COLOR, VALUE_SCALE, finish, series_colors


def se_gates(gates: Sequence[Gate]) -> list[Gate]:
    """Channel gates (SE, ECA ...), in depth order."""
    return [g for g in gates if g.kind.draws(EXCITATION)]


def value_range(values: Sequence[np.ndarray]) -> tuple[float, float]:
    """The colour range of excitation heatmaps: the 1st to 99th percentile of all ``values``
    together, so that several photos' heatmaps share one scale, and values that all sit near 0.5
    still show their differences instead of one flat colour."""
    low, high = (float(v) for v in np.percentile(np.concatenate([np.ravel(v) for v in values]), [1, 99]))
    if high - low < 0.02:
        low, high = low - 0.01, high + 0.01
    return low, high


def excitation_heatmap(gates: Sequence[Gate], analysis: ImageAnalysis, width: int | None = None,
                       title: str | None = None, colour_range: tuple[float, float] | None = None) -> go.Figure:
    """Excitation s of every SE block of one image: rows are blocks in depth order.

    Blocks have different channel counts, so each row is stretched to a common ``width`` (default:
    the largest count): column j shows channel floor(j * C / width). The x axis is therefore the
    channel *position* index / C in [0, 1]; the hover gives the real channel index.
    """
    rows = [g for g in se_gates(gates) if g.name in analysis.values]
    if not rows:
        raise NothingToShow(_("the model has no SE-style gate to show"))
    width = width or max(g.channels for g in rows)
    z_rows: list[np.ndarray] = []
    channel: list[np.ndarray] = []
    for g in rows:
        s = analysis.values[g.name].reshape(-1)
        index = (np.arange(width) * len(s)) // width
        z_rows.append(s[index])
        channel.append(index)
    x = (np.arange(width) + 0.5) / width
    labels = [f"{g.name} ({g.channels})" for g in rows]
    z = np.asarray(z_rows)
    low, high = colour_range or value_range([z])
    fig = go.Figure(go.Heatmap(
        z=z, x=x, y=labels, customdata=np.asarray(channel), zmin=low, zmax=high,
        colorscale=VALUE_SCALE, colorbar=dict(title="s"), name=chart_text(analysis.name), meta={"custom": [_("channel")]},
        hovertemplate=_("%{y}<br>channel %{customdata}<br>s = %{z:.3f}<extra></extra>")))
    prefix = rows[0].name.split("_")[0]  # 'SE', or 'ECA' for efficient channel attention
    fig.update_yaxes(autorange="reversed", title=_("{prefix} block (channels), input → output").format(prefix=prefix))
    fig.update_xaxes(title=_("channels of the block, first → last (blocks differ in width; hover for the index)"),
                     range=[0, 1], showticklabels=False)
    return finish(fig, title or _("Excitation of every {prefix} block — {image}").format(prefix=prefix,
                                                                                        image=chart_text(analysis.name)),
                  height=max(320, 60 + 28 * len(rows)))


def excitation_distribution(gates: Sequence[Gate], analyses: Sequence[ImageAnalysis],
                            style: str = "violin", title: str | None = None) -> go.Figure:
    """Distribution of the excitation over the channels of each SE block, one colour per image."""
    if style not in ("violin", "box"):
        raise InvalidChoice(_("style must be 'violin' or 'box', not {style!r}").format(style=style))
    blocks = se_gates(gates)
    fig = go.Figure()
    for colour, analysis in zip(series_colors(len(analyses)), analyses, strict=True):
        xs = np.concatenate([[g.name] * g.channels for g in blocks if g.name in analysis.values])
        ys = np.concatenate([analysis.values[g.name].reshape(-1) for g in blocks if g.name in analysis.values])
        common = dict(x=xs, y=ys, name=chart_text(analysis.name), marker_color=colour, legendgroup=chart_text(analysis.name),
                      hovertemplate="%{x}: s = %{y:.3f}<extra>" + chart_text(analysis.name) + "</extra>")
        if style == "violin":
            fig.add_trace(go.Violin(**common, points=False, box_visible=True, meanline_visible=True,
                                    spanmode="hard"))
        else:
            fig.add_trace(go.Box(**common, boxpoints=False, boxmean=True))
    mode = "group" if len(analyses) > 1 else None
    fig.update_layout(violinmode=mode, boxmode=mode, showlegend=len(analyses) > 1)
    fig.update_yaxes(title=_("excitation s"), range=[0, 1.02])
    fig.update_xaxes(title=_("SE block (input → output)"), categoryorder="array",
                     categoryarray=[g.name for g in blocks])
    return finish(fig, title or _("Excitation per block, over its channels"), height=420)


def block_bars(gate: Gate, analyses: Sequence[ImageAnalysis], sort: bool = False,
               title: str | None = None) -> go.Figure:
    """The excitation of every channel of one block, one bar series per image.

    sort: order channels by the first image's excitation (highest first); the hover keeps the
    real channel index.
    """
    first = analyses[0].values[gate.name].reshape(-1)
    order = np.argsort(-first, kind="stable") if sort else np.arange(len(first))
    fig = go.Figure()
    for colour, analysis in zip(series_colors(len(analyses)), analyses, strict=True):
        s = analysis.values[gate.name].reshape(-1)[order]
        common = dict(x=np.arange(len(order)), y=s, customdata=order, name=chart_text(analysis.name),
                      meta={"custom": [_("channel")]},
                      hovertemplate=_("channel %{customdata}: s = %{y:.3f}<extra>%{fullData.name}</extra>"))
        if len(analyses) == 1:
            fig.add_trace(go.Bar(**common, marker_color=colour, marker_line_width=0))
        else:  # several images: lines, since overlaid bars hide each other
            fig.add_trace(go.Scatter(**common, mode="lines", line=dict(color=colour, width=1.5)))
    fig.add_hline(y=0.5, line=dict(color=REFERENCE_COLOR, dash="dot", width=1))
    fig.update_layout(barmode="overlay", bargap=0, showlegend=len(analyses) > 1)
    fig.update_xaxes(title=_("channel, sorted by excitation") if sort else _("channel"))
    fig.update_yaxes(title=_("excitation s"), range=[0, 1.02])
    return finish(fig, title or _("{gate}: excitation of its {channels} channels").format(
        gate=gate.name, channels=gate.channels), height=420)
