"""The "Compare models" page's charts: each model's top-5 per image, the attention of every model
by relative depth, and (for two SE-like models of the same layout) their channel-wise agreement."""
from __future__ import annotations

import numpy as np

from ..figures import models as model_figures
from ..figures import prediction
from ..i18n import _, listing, ngettext, sentences
from ..analysis.model_comparison import ModelComparison, ModelSummary
from .chart import Chart


def top_chart(model: ModelSummary, image_index: int, image_name: str, k: int = 5) -> Chart:
    """One model's top-k for one image, to sit beside the other models' in columns."""
    top = model.top[image_index][:k]
    fig = prediction.top_k_bars(top, title=_("{model}: top-{k}").format(model=model.name, k=len(top)))
    return Chart(f"models_top_{model.name}_{image_index}", fig,
                 _("{model} on {image}: '{label}' at {prob:.0%}.").format(
                     model=model.name, image=image_name, label=top[0].label, prob=top[0].prob), wide=False)


def agreement(comparison: ModelComparison) -> str:
    """One sentence: on how many images all the models name the same top-1 class."""
    n = len(comparison.images)
    same = sum(len({m.top[i][0].label for m in comparison.models}) == 1 for i in range(n))
    return ngettext("The models agree on the top-1 class for {same} of {n} image.",
                    "The models agree on the top-1 class for {same} of {n} images.", n).format(same=same, n=n)


def _stage_reading(model: ModelSummary) -> str:
    stages = [s for s in model.stages if np.isfinite(s.mean)]
    if not stages:
        return _("{model}: no value.").format(model=model.name)
    first, last = stages[0], stages[-1]
    high = max(stages, key=lambda s: s.mean)
    return _("**{model}** ({values}): {first:.3f} at {first_stage}, {last:.3f} at {last_stage}, highest at "
             "{high_stage} ({high:.3f}).").format(model=model.name, values=model.value_names, first=first.mean,
                                                 first_stage=first.label, last=last.mean, last_stage=last.label,
                                                 high_stage=high.label, high=high.mean)


def stage_chart(comparison: ModelComparison) -> Chart:
    n = len(comparison.images)
    over = _("this photo") if n == 1 else _("{n} photos").format(n=n)
    fig = model_figures.stage_statistics(comparison.models,
                                         title=_("Each model's attention by relative depth — {over}").format(over=over))
    return Chart("models_stages", fig, sentences(
                 _("Each panel is one kind of attention on an axis of its own, because their values mean "
                   "different things: the excitation s of SE and ECA (0 silences a channel, 1 lets it through), "
                   "the weight b of the larger kernel for SK (above 0.5 favours the larger kernel). Each line is one "
                   "model. A point is one stage, placed at the mean relative depth of its gates (0 = the model's "
                   "first gate, 1 = its last), so that models of different depth line up; its height is the value "
                   "averaged over the stage's gates, their channels and the photos. Bars: the spread between "
                   "photos; small dots: single gates; dotted line: 1/paths, the paths' equal shares (a sigmoid "
                   "gate has no such neutral value). Each panel's axis spans its own values: compare how each "
                   "value changes with depth, not heights from one panel to another."),
                 *(_stage_reading(m) for m in comparison.models)))


def correlation_chart(comparison: ModelComparison) -> Chart | None:
    """The per-block channel-wise correlation, when two models share a channel-gate layout."""
    if not comparison.correlations:
        return None
    readings = []
    for (a, b), blocks in comparison.correlations.items():
        finite = [c for c in blocks if np.isfinite(c.r_mean_image)]
        if finite:
            high, low = max(finite, key=lambda c: c.r_mean_image), min(finite, key=lambda c: c.r_mean_image)
            readings.append(_("{a} vs {b}: highest in {high} (r = {r_high:.2f}), lowest in {low} "
                              "(r = {r_low:.2f}).").format(a=a, b=b, high=high.gate, r_high=high.r_mean_image,
                                                          low=low.gate, r_low=low.r_mean_image))
    fig = model_figures.block_correlation(comparison.correlations)
    return Chart("models_correlation", fig,
                 sentences(_("Both models have SE-like gates with the same names and channel counts, so their excitations "
                   "can be compared channel by channel. Per block, r is the Pearson correlation over the channels "
                   "of the two models' excitation s (solid: of s averaged over the photos; dashed: r on each photo, "
                   "averaged). r near 1: the block excites the same channels in both models; near 0: unrelated. "
                   "Channel order is arbitrary in networks trained separately, so expect r near 0 unless one model "
                   "was fine-tuned from the other or they share their initial weights."), *readings))


def correlation_note(comparison: ModelComparison) -> str:
    """Why there is no channel-wise correlation chart (when there is none)."""
    def gates(m: ModelSummary) -> str:
        if not m.kinds:
            return _("{model} has no gates").format(model=m.name)
        return ngettext("{model} has {count} {kinds} gate", "{model} has {count} {kinds} gates", m.gates).format(
            model=m.name, count=m.gates, kinds="/".join(k.upper() for k in m.kinds))

    return _("The channel-wise correlation needs two models whose gates are all SE-like (SE or ECA) with the "
             "same gate names and channel counts; {models}.").format(
        models=listing(gates(m) for m in comparison.models))


def comparison_charts(comparison: ModelComparison) -> list[Chart]:
    """The page's charts after the top-5s: the stage statistics, then the correlation if any."""
    charts = [stage_chart(comparison)]
    corr = correlation_chart(comparison)
    return charts + ([corr] if corr is not None else [])
