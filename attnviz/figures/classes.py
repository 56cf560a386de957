"""The SENet paper's "role of excitation" views: class-mean gate values per block, how
class-specific each block is, and how alike the classes are."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..class_stats import BlockClassMeans
from .style import REFERENCE_COLOR, VALUE_SCALE, finish, series_colors


def _hex_to_rgba(colour: str, alpha: float) -> str:
    colour = colour.lstrip("#")
    r, g, b = (int(colour[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def role_of_excitation(blocks: Sequence[BlockClassMeans], class_names: Sequence[str],
                       band_class: int | None = None, value_label: str = "excitation s",
                       columns: int = 2, title: str | None = None) -> go.Figure:
    """One panel per block: a line per class of its mean value over the sampled channels, and
    the all-class mean as a black dashed reference; ``band_class`` adds that class's ±1 std band."""
    columns = min(columns, len(blocks))
    rows = math.ceil(len(blocks) / columns)
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=[b.gate for b in blocks],
                        horizontal_spacing=0.06, vertical_spacing=0.5 / max(rows, 1) if rows > 1 else 0.1,
                        shared_yaxes=True)
    colours = series_colors(len(class_names))
    for i, block in enumerate(blocks):
        r, c = divmod(i, columns)
        x = np.arange(len(block.channels))
        custom = block.channels
        if band_class is not None:
            mean, std = block.means[band_class], block.stds[band_class]
            colour = colours[band_class]
            fig.add_trace(go.Scatter(
                x=np.concatenate([x, x[::-1]]), y=np.concatenate([mean + std, (mean - std)[::-1]]),
                fill="toself", fillcolor=_hex_to_rgba(colour, 0.18), line=dict(width=0),
                name=f"{class_names[band_class]} ± std", legendgroup="band", showlegend=i == 0,
                hoverinfo="skip", meta={"x": "plotted position", "y": "mean ± std (band outline)"}),
                row=r + 1, col=c + 1)
        for k, name in enumerate(class_names):
            fig.add_trace(go.Scatter(
                x=x, y=block.means[k], customdata=np.stack([np.full(len(x), block.gate), custom], axis=1),
                mode="lines", name=name, legendgroup=name, showlegend=i == 0,
                line=dict(color=colours[k], width=1.6),
                meta={"x": "plotted position", "y": f"class-mean {value_label}", "custom": ["block", "channel"]},
                hovertemplate="%{customdata[0]} channel %{customdata[1]}: %{y:.3f}<extra>" + name + "</extra>"),
                row=r + 1, col=c + 1)
        fig.add_trace(go.Scatter(
            x=x, y=block.overall, customdata=np.stack([np.full(len(x), block.gate), custom], axis=1),
            mode="lines", name="all classes", legendgroup="all", showlegend=i == 0,
            line=dict(color=REFERENCE_COLOR, width=2.5, dash="dash"),
            meta={"x": "plotted position", "y": f"all-class mean {value_label}", "custom": ["block", "channel"]},
            hovertemplate="%{customdata[0]} channel %{customdata[1]}: %{y:.3f}<extra>all classes</extra>"),
            row=r + 1, col=c + 1)
    fig.update_yaxes(range=[0, 1.02])
    for r in range(rows):
        fig.update_yaxes(title_text=value_label, row=r + 1, col=1)
    for c in range(columns):
        fig.update_xaxes(title_text="sampled channel (hover for its index)", row=rows, col=c + 1)
    return finish(fig, title or f"Role of excitation: class-mean {value_label} per block",
                  height=120 + 260 * rows, legend=dict(orientation="h", y=-0.12 if rows == 1 else -0.06))


def specificity_bars(gates: Sequence[str], scores: Sequence[float], title: str | None = None) -> go.Figure:
    """Class-specificity per block in depth order (share of variance between classes)."""
    fig = go.Figure(go.Bar(x=list(gates), y=list(scores), marker_color="#6a3d9a",
                           text=[f"{s:.2f}" for s in scores], textposition="outside",
                           hovertemplate="%{x}: %{y:.3f}<extra></extra>"))
    top = max(scores) if len(scores) else 0.0
    fig.update_yaxes(title="class specificity", range=[0, max(top * 1.25, 0.05)])
    fig.update_xaxes(title="block (input → output)")
    return finish(fig, title or "How class-specific is each block?", height=380)


def similarity_matrix(class_names: Sequence[str], matrix: np.ndarray, gate: str,
                      centred: bool = False, title: str | None = None) -> go.Figure:
    """Cosine similarity between class-mean vectors of one block, as an annotated heatmap."""
    m = np.asarray(matrix, dtype=float)
    off = m[~np.eye(len(m), dtype=bool)] if len(m) > 1 else m.reshape(-1)
    zmin = -1.0 if centred else float(min(off.min(), 0.999)) if off.size else 0.0
    fig = go.Figure(go.Heatmap(
        z=m, x=list(class_names), y=list(class_names), zmin=zmin, zmax=1.0, colorscale=VALUE_SCALE,
        colorbar=dict(title="cosine"), text=np.vectorize(lambda v: f"{v:.3f}")(m),
        texttemplate="%{text}" if len(m) <= 12 else None,
        hovertemplate="%{y} vs %{x}: %{z:.4f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    what = "class-mean vectors minus the all-class mean" if centred else "class-mean vectors"
    return finish(fig, title or f"{gate}: cosine similarity of {what}", height=200 + 34 * len(m))
