"""Attribution views: Grad-CAM over the image, channel attribution against the gate's value, and
how the top-5 changes when a gate is knocked out."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from ..i18n import N_, _
from .style import REFERENCE_COLOR, finish, hover

if TYPE_CHECKING:
    from ..analysis.inference import TopClass


def gradcam_overlay(image: Image.Image, heatmap: np.ndarray, title: str, opacity: float = 0.5) -> go.Figure:
    """The image as the model saw it, with the Grad-CAM heatmap (same pixel grid) on top."""
    rgb = np.asarray(image.convert("RGB"))
    heat = np.asarray(heatmap, dtype=float)
    if heat.shape != rgb.shape[:2]:
        raise ValueError(_("heatmap {heatmap} and image {image} must have the same size").format(
            heatmap=heat.shape, image=rgb.shape[:2]))
    fig = go.Figure(go.Image(z=rgb, name=_("image"), hoverinfo="skip"))
    fig.add_trace(go.Heatmap(z=heat, colorscale="Jet", zmin=0, zmax=1, opacity=opacity, name="Grad-CAM",
                             colorbar=dict(title="Grad-CAM"),
                             hovertemplate="x %{x}, y %{y}: %{z:.2f}<extra></extra>"))
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False,
                     title=_("the photo as the model sees it"))
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, scaleanchor="x",
                     title=_("rows of the photo"))
    return finish(fig, title, height=520, margin=dict(l=10, r=10, t=60, b=10))


def attribution_scatter(gate: str, excitation: np.ndarray, attribution: np.ndarray, spearman: float,
                        label: str, value_label: str = N_("excitation s"), title: str | None = None) -> go.Figure:
    """Each channel of one block: its gate value against its attribution to the class's logit."""
    value_label = _(value_label)
    channels = np.arange(len(excitation))
    fig = go.Figure(go.Scatter(
        x=excitation, y=attribution, mode="markers", customdata=channels, name=gate,
        marker=dict(size=7, color="#1f77b4", opacity=0.75), meta={"custom": [_("channel")]},
        hovertemplate=hover(_("channel %{customdata}<br>{value} = %{x:.3f}<br>attribution = %{y:.4g}<extra></extra>"),
                            value=value_label)))
    fig.add_hline(y=0, line=dict(color=REFERENCE_COLOR, dash="dot", width=1))
    fig.update_xaxes(title=value_label, range=[0, 1])
    fig.update_yaxes(title=_("attribution to '{label}' (gradient × activation)").format(label=label))
    rho = _("n/a") if not np.isfinite(spearman) else f"{spearman:+.2f}"
    return finish(fig, title or _("{gate}: attribution vs {value} (Spearman ρ = {rho})").format(
        gate=gate, value=value_label, rho=rho), height=460)


def knockout_bars(before: Sequence[TopClass], after: Sequence[TopClass], gates: Sequence[str],
                  title: str | None = None) -> go.Figure:
    """Probabilities of the intact model's top-k and of any class entering the top-k after the
    knock-out, side by side."""
    after_prob = {row.label: row.prob for row in after}
    before_prob = {row.label: row.prob for row in before}
    labels = list(dict.fromkeys([row.label for row in before] + [row.label for row in after]))
    labels = labels[::-1]  # most likely on top
    fig = go.Figure()
    for name, probs, colour in ((_("intact"), before_prob, "#1f77b4"),
                                (_("knocked out: {gates}").format(gates=", ".join(gates)), after_prob, "#ff7f0e")):
        values = [probs.get(label) for label in labels]
        fig.add_trace(go.Bar(
            y=labels, x=[v if v is not None else 0 for v in values], orientation="h", name=name,
            marker_color=colour, text=[f"{v:.1%}" if v is not None else _("not in top-5") for v in values],
            textposition="auto", hovertemplate="%{y}: %{x:.2%}<extra>%{fullData.name}</extra>"))
    fig.update_layout(barmode="group")  # the legend: below the plot, as every chart (style.finish)
    fig.update_xaxes(title=_("probability"), tickformat=".0%", range=[0, 1])
    fig.update_yaxes(title=_("class"), automargin=True)
    return finish(fig, title or _("Top-5 before and after the knock-out"), height=140 + 56 * len(labels))
