"""The SENet paper's "role of excitation" views: class-mean gate values per block, how
class-specific each block is, and how alike the classes are."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..profiles.class_stats import BlockClassMeans
from ..i18n import N_, _
from .literal import chart_text
from .style import REFERENCE_COLOR, VALUE_SCALE, finish, series_colors


def _hex_to_rgba(colour: str, alpha: float) -> str:
    colour = colour.lstrip("#")
    r, g, b = (int(colour[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def role_of_excitation(blocks: Sequence[BlockClassMeans], class_names: Sequence[str],
                       band_class: int | None = None, value_label: str = N_("excitation s"),
                       columns: int = 2, title: str | None = None, highlight: int | None = None) -> go.Figure:
    """One panel per block: a line per class of its mean value over the sampled channels (the x
    axis names the real channel indices), and the all-class mean as a black dashed reference.
    ``highlight``: that class in colour, the others in light grey (readable with many classes);
    ``band_class`` adds that class's ±1 std band."""
    value_label = _(value_label)
    channel, block_word = _("channel"), _("block")
    columns = min(columns, len(blocks))
    rows = math.ceil(len(blocks) / columns)
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=[b.gate for b in blocks],
                        horizontal_spacing=0.12, vertical_spacing=0.6 / max(rows, 1) if rows > 1 else 0.1)
    colours = series_colors(len(class_names))
    if highlight is not None:
        colours = ["rgba(150,150,150,0.45)" if k != highlight else colours[k] for k in range(len(class_names))]
    for i, block in enumerate(blocks):
        r, c = divmod(i, columns)
        x = [str(int(ch)) for ch in block.channels]      # the real channel index, as a category
        custom = block.channels
        if band_class is not None:
            mean, std = block.means[band_class], block.stds[band_class]
            colour = series_colors(len(class_names))[band_class]
            fig.add_trace(go.Scatter(
                x=x + x[::-1], y=np.concatenate([mean + std, (mean - std)[::-1]]),
                fill="toself", fillcolor=_hex_to_rgba(colour, 0.18), line=dict(width=0),
                name=_("{name} ± std").format(name=chart_text(class_names[band_class])), legendgroup="band", showlegend=i == 0,
                hoverinfo="skip", meta={"x": channel, "y": _("mean ± std (band outline)")}),
                row=r + 1, col=c + 1)
        order = [k for k in range(len(class_names)) if k != highlight] + ([highlight] if highlight is not None else [])
        for k in order:
            name = chart_text(class_names[k])
            faded = highlight is not None and k != highlight
            fig.add_trace(go.Scatter(
                x=x, y=block.means[k], customdata=np.stack([np.full(len(x), block.gate), custom], axis=1),
                mode="lines", name=name, legendgroup=name, showlegend=i == 0 and not faded,
                line=dict(color=colours[k], width=1.2 if faded else 2.4),
                meta={"x": channel, "y": _("class-mean {value}").format(value=value_label),
                      "custom": [block_word, channel]},
                hovertemplate=_("%{customdata[0]} channel %{customdata[1]}: %{y:.3f}") + "<extra>" + name + "</extra>"),
                row=r + 1, col=c + 1)
        fig.add_trace(go.Scatter(
            x=x, y=block.overall, customdata=np.stack([np.full(len(x), block.gate), custom], axis=1),
            mode="lines", name=_("mean of all classes"), legendgroup="all", showlegend=i == 0,
            line=dict(color=REFERENCE_COLOR, width=2.5, dash="dash"),
            meta={"x": channel, "y": _("all-class mean {value}").format(value=value_label),
                  "custom": [block_word, channel]},
            hovertemplate=_("%{customdata[0]} channel %{customdata[1]}: %{y:.3f}") + "<extra>" + _("all classes")
            + "</extra>"),
            row=r + 1, col=c + 1)
        fig.update_xaxes(type="category", title_text=channel, nticks=10, row=r + 1, col=c + 1)
        fig.update_yaxes(title_text=value_label, row=r + 1, col=c + 1)
    low = min(float(np.min(b.means)) for b in blocks)
    high = max(float(np.max(b.means)) for b in blocks)
    pad = 0.05 * max(high - low, 0.05)
    fig.update_yaxes(range=[max(0.0, low - pad), min(1.02, high + pad)])
    return finish(fig, title or _("Role of excitation: class-mean {value} per block").format(value=value_label),
                  height=140 + 280 * rows, legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0))


def specificity_bars(gates: Sequence[str], scores: Sequence[float], title: str | None = None) -> go.Figure:
    """Class-specificity per block in depth order (share of variance between classes)."""
    fig = go.Figure(go.Bar(x=list(gates), y=list(scores), marker_color="#6a3d9a",
                           text=[f"{s:.2f}" for s in scores], textposition="outside",
                           hovertemplate="%{x}: %{y:.3f}<extra></extra>"))
    top = max(scores) if len(scores) else 0.0
    fig.update_yaxes(title=_("class specificity"), range=[0, max(top * 1.25, 0.05)])
    fig.update_xaxes(title=_("block (input → output)"))
    return finish(fig, title or _("How class-specific is each block?"), height=380)


def statistic_bars(gates: Sequence[str], values: Sequence[float], intervals: Sequence[tuple[float, float]],
                   floor: Sequence[float], axis_title: str, title: str, floor_name: str) -> go.Figure:
    """A class statistic per block in depth order: bars with their interval as error bars, and the
    noise floor (what chance alone reaches for the same numbers of images) as a dashed step line."""
    v = np.asarray(values, dtype=float)
    low = np.array([i[0] for i in intervals], dtype=float)
    high = np.array([i[1] for i in intervals], dtype=float)
    fig = go.Figure(go.Bar(
        x=list(gates), y=v, marker_color="#6a3d9a", name=axis_title,
        text=[f"{s:.2f}" for s in v], textposition="outside",
        error_y=dict(type="data", symmetric=False, array=np.nan_to_num(high - v), arrayminus=np.nan_to_num(v - low),
                     color="#333333", thickness=1.2),
        customdata=np.stack([low, high], axis=1) if len(v) else None,
        hovertemplate=_("%{x}: %{y:.3f} (interval %{customdata[0]:.3f} – %{customdata[1]:.3f})") + "<extra></extra>"))
    fig.add_trace(go.Scatter(x=list(gates), y=list(floor), mode="lines", name=floor_name,
                             line=dict(color=REFERENCE_COLOR, dash="dash", shape="hvh"),
                             hovertemplate="%{x}: %{y:.4f}<extra>" + floor_name + "</extra>"))
    top = float(np.nanmax(np.concatenate([v, high, np.asarray(floor, dtype=float)]))) if len(v) else 0.0
    fig.update_yaxes(title=axis_title, range=[0, max(top * 1.2, 0.05)])
    fig.update_xaxes(title=_("block (input → output)"))
    return finish(fig, title, height=400)


def similarity_matrix(class_names: Sequence[str], matrix: np.ndarray, gate: str,
                      centred: bool = True, title: str | None = None) -> go.Figure:
    """Cosine similarity between class-mean vectors of one block, as an annotated heatmap.

    centred: the vectors minus the all-class mean (what distinguishes each class), on a diverging
    scale from -1 to 1; otherwise the raw vectors, on a scale fitted to their (high) similarities."""
    m = np.asarray(matrix, dtype=float)
    off = m[~np.eye(len(m), dtype=bool)] if len(m) > 1 else m.reshape(-1)
    if centred:
        zmin, zmax, scale = -1.0, 1.0, "RdBu_r"
    else:
        zmin, zmax, scale = (float(off.min()) if off.size else 0.0), 1.0, VALUE_SCALE
    fig = go.Figure(go.Heatmap(
        z=m, x=[chart_text(n) for n in class_names], y=[chart_text(n) for n in class_names], zmin=zmin, zmax=zmax, colorscale=scale,
        colorbar=dict(title=_("cosine")), text=np.vectorize(lambda v: f"{v:.2f}")(m),
        texttemplate="%{text}" if len(m) <= 12 else None,
        hovertemplate=_("%{y} vs %{x}: %{z:.4f}<extra></extra>")))
    fig.update_yaxes(autorange="reversed", title=_("class"), tickfont=dict(size=13))
    fig.update_xaxes(title=_("class"), tickfont=dict(size=13), tickangle=-35)
    what = _("what sets each class apart") if centred else _("raw class means")
    return finish(fig, title or _("{gate}: how alike are the classes? ({what})").format(gate=gate, what=what),
                  height=260 + 36 * len(m))


def class_mix_bars(class_names: Sequence[str], listed: Sequence[float], dataset: Sequence[float],
                   title: str) -> go.Figure:
    """Share of each class among a channel's top images beside its share of the dataset."""
    fig = go.Figure([
        go.Bar(x=[chart_text(n) for n in class_names], y=list(listed), name=_("among the top images"), marker_color="#6a3d9a",
               hovertemplate=_("%{x}: %{y:.0%} of the top images<extra></extra>")),
        go.Bar(x=[chart_text(n) for n in class_names], y=list(dataset), name=_("in the whole dataset"), marker_color="#bbbbbb",
               hovertemplate=_("%{x}: %{y:.0%} of the dataset<extra></extra>"))])
    fig.update_layout(barmode="group")
    fig.update_yaxes(title=_("share of images"), tickformat=".0%")
    fig.update_xaxes(title=_("class"), tickangle=-30)
    return finish(fig, title, height=380)
