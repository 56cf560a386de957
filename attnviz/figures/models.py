"""Views of two or three models side by side, on a common relative-depth axis."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from ..i18n import N_, _
from ..model_comparison import BlockCorrelation, ModelSummary
from .style import REFERENCE_COLOR, finish, series_colors

DEPTH_AXIS = dict(title=N_("relative depth (0 = first gate, 1 = last gate)"), range=[-0.05, 1.05])


def _depth_axis() -> dict:
    """DEPTH_AXIS with its title in the reader's language."""
    title = DEPTH_AXIS["title"]  # marked with N_ above; a literal inside _() would become a message
    return {**DEPTH_AXIS, "title": _(title)}


def stage_statistics(models: Sequence[ModelSummary], title: str | None = None) -> go.Figure:
    """Per model, each stage's mean compared value (s for SE, b for SK) at the stage's relative
    depth, with the spread between images as error bars and each gate as a small dot."""
    fig = go.Figure()
    for colour, model in zip(series_colors(len(models)), models):
        fig.add_trace(go.Scatter(
            x=[g.depth for g in model.gate_stats], y=[g.mean for g in model.gate_stats], mode="markers",
            name=_("{model}: gates").format(model=model.name), showlegend=False, marker=dict(color=colour, size=6, opacity=0.45),
            text=[g.name for g in model.gate_stats],
            hovertemplate=_("%{text} (depth %{x:.2f}): %{y:.4f}") + "<extra>" + model.name + "</extra>"))
        stages = model.stages
        fig.add_trace(go.Scatter(
            x=[s.depth for s in stages], y=[s.mean for s in stages], mode="lines+markers",
            name=f"{model.name} ({model.value_names})", line=dict(color=colour, width=2.4), marker=dict(size=10),
            error_y=dict(type="data", array=[s.std for s in stages], visible=True, thickness=1.2),
            text=[_("{stage}: mean {value} over {gates}").format(stage=s.label, value=s.value, gates=", ".join(s.gates))
                  for s in stages],
            hovertemplate=_("%{text}<br>depth %{x:.2f}: %{y:.4f}") + "<extra>" + model.name + "</extra>"))
    neutrals = sorted({s.neutral for m in models for s in m.stages if np.isfinite(s.neutral) and s.neutral <= 1})
    for neutral in neutrals:
        fig.add_hline(y=neutral, line=dict(color=REFERENCE_COLOR, dash="dot", width=1))
    fig.update_xaxes(**_depth_axis())
    fig.update_yaxes(title=_("mean compared value (s for SE/ECA, b for SK)"))
    return finish(fig, title or _("Each model's attention by relative depth"), height=420)


def block_correlation(pairs: dict[tuple[str, str], Sequence[BlockCorrelation]], title: str | None = None) -> go.Figure:
    """Per pair of same-layout channel-gate models and block: Pearson r over channels of the
    image-mean excitation (solid), and the mean of the per-image r (dashed)."""
    fig = go.Figure()
    for colour, ((a, b), blocks) in zip(series_colors(len(pairs)), pairs.items()):
        x, names = [c.depth for c in blocks], [f"{c.gate} (C = {c.channels})" for c in blocks]
        fig.add_trace(go.Scatter(x=x, y=[c.r_mean_image for c in blocks], mode="lines+markers", text=names,
                                 name=_("{a} vs {b}: r of the image-mean s").format(a=a, b=b),
                                 line=dict(color=colour, width=2.4),
                                 marker=dict(size=9), hovertemplate="%{text}: r = %{y:.3f}<extra></extra>"))
        fig.add_trace(go.Scatter(x=x, y=[c.r_image_mean for c in blocks], mode="lines+markers", text=names,
                                 name=_("{a} vs {b}: mean of the per-image r").format(a=a, b=b),
                                 line=dict(color=colour, width=1.6, dash="dash"), marker=dict(size=6),
                                 hovertemplate=_("%{text}: mean r = %{y:.3f}<extra></extra>")))
    fig.add_hline(y=0, line=dict(color=REFERENCE_COLOR, dash="dot", width=1))
    fig.update_xaxes(**_depth_axis())
    fig.update_yaxes(title=_("Pearson r over channels"), range=[-1.05, 1.05])
    return finish(fig, title or _("Channel-wise agreement of the excitations, block by block"), height=400)
