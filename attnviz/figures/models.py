"""Views of two or three models side by side, on a common relative-depth axis."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..gates import EXCITATION, kind_named
from ..i18n import N_, _
from ..analysis.model_comparison import BlockCorrelation, ModelSummary
from ..views.kinds import view_of
from .style import REFERENCE_COLOR, finish, series_colors, subplot_titles

DEPTH_AXIS: dict[str, Any] = dict(title=N_("relative depth (0 = first gate, 1 = last gate)"), range=[-0.05, 1.05])


def _depth_axis() -> dict:
    """DEPTH_AXIS with its title in the reader's language."""
    title = DEPTH_AXIS["title"]  # marked with N_ above; a literal inside _() would become a message
    return {**DEPTH_AXIS, "title": _(title)}


#: One measure of the stage chart: (kind name, compared value's name, paths), e.g. ("se", "s", 1).
Measure = tuple[str, str, int]


def measures(models: Sequence[ModelSummary]) -> list[Measure]:
    """The distinct compared values of these models, in order of first appearance: each gets its
    own panel and axis (an excitation s and an SK weight b are different quantities)."""
    return list(dict.fromkeys((s.kind, s.value, s.paths) for m in models for s in m.stages))


def measure_title(measure: Measure) -> str:
    """A panel's title: the kind and what its compared value is ("Selective Kernel: b (…)", the kind's view's words)."""
    kind = kind_named(measure[0])
    return _("{kind}: {value}").format(kind=view_of(kind).heading(), value=view_of(kind).value_label(measure[2]))


def measure_axis(measure: Measure) -> str:
    """A panel's y-axis title with the value's meaning: a channel gate's weight runs from 0 (silenced)
    to 1 (kept); a selection's weights over P paths sum to 1, 1/P being equal shares."""
    kind_name, value, paths = measure
    if kind_named(kind_name).draws(EXCITATION):
        return _("{value} (0 silences, 1 keeps)").format(value=value)
    return _("{value} ({neutral:.2g} = equal shares)").format(value=value, neutral=1 / paths)


def stage_statistics(models: Sequence[ModelSummary], title: str | None = None) -> go.Figure:
    """Per model, each stage's mean compared value at the stage's relative depth, with the spread
    between images as error bars and each gate as a small dot; one panel per compared value
    (``measures``: SE's s and SK's b never share an axis), a selection's equal shares 1/P dotted."""
    panels = measures(models) or [("", "", 1)]
    titles = subplot_titles([measure_title(m) if m[0] else "" for m in panels])
    fig = make_subplots(rows=len(panels), cols=1, subplot_titles=titles,
                        vertical_spacing=(0.34 + 0.05 * sum(t.count("<br>") for t in titles)) / len(panels))
    for colour, model in zip(series_colors(len(models)), models, strict=True):
        legend = True
        for row, measure in enumerate(panels, start=1):
            stages = [s for s in model.stages if (s.kind, s.value, s.paths) == measure]
            if not stages:
                continue
            names = {g for s in stages for g in s.gates}
            gates = [g for g in model.gate_stats if g.name in names]
            fig.add_trace(go.Scatter(
                x=[g.depth for g in gates], y=[g.mean for g in gates], mode="markers",
                name=_("{model}: gates").format(model=model.name), showlegend=False,
                marker=dict(color=colour, size=6, opacity=0.45), text=[g.name for g in gates],
                hovertemplate=_("%{text} (depth %{x:.2f}): %{y:.4f}") + "<extra>" + model.name + "</extra>"),
                row=row, col=1)
            fig.add_trace(go.Scatter(
                x=[s.depth for s in stages], y=[s.mean for s in stages], mode="lines+markers",
                name=f"{model.name} ({model.value_names})", showlegend=legend, legendgroup=model.name,
                line=dict(color=colour, width=2.4), marker=dict(size=10),
                error_y=dict(type="data", array=[s.std for s in stages], visible=True, thickness=1.2),
                text=[_("{stage}: mean {value} over {gates}").format(stage=s.label, value=s.value,
                                                                     gates=", ".join(s.gates)) for s in stages],
                hovertemplate=_("%{text}<br>depth %{x:.2f}: %{y:.4f}") + "<extra>" + model.name + "</extra>"),
                row=row, col=1)
            legend = False
    for row, measure in enumerate(panels, start=1):
        # A selection's 1/P (equal shares) is a neutral value to read heights against; a sigmoid
        # gate has none (its knock-out value 1 is not a preference), so its axis spans its values.
        if measure[0] and not kind_named(measure[0]).draws(EXCITATION):
            fig.add_hline(y=1 / measure[2], line=dict(color=REFERENCE_COLOR, dash="dot", width=1), row=row, col=1)
        fig.update_xaxes(**_depth_axis(), row=row, col=1)
        if measure[0]:
            fig.update_yaxes(title_text=measure_axis(measure), row=row, col=1)
    return finish(fig, title or _("Each model's attention by relative depth"), height=120 + 300 * len(panels))


def block_correlation(pairs: Mapping[tuple[str, str], Sequence[BlockCorrelation]], title: str | None = None) -> go.Figure:
    """Per pair of same-layout channel-gate models and block: Pearson r over channels of the
    image-mean excitation (solid), and the mean of the per-image r (dashed)."""
    fig = go.Figure()
    for colour, ((a, b), blocks) in zip(series_colors(len(pairs)), pairs.items(), strict=True):
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
