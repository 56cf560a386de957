"""The Scale page's charts: the SKNet zoom experiment on the person's images (a ``ScaleSweep``)
beside the same experiment over a whole dataset (a profile made at several zooms), with sentences
that say whether the photo follows the dataset and the paper."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..profiles.class_stats import difference_gates, mean_attention_difference
from ..figures import scale as scale_figures
from ..gates import AttentionKind
from ..i18n import _, sentences
from ..profiles.profile import Profile
from ..analysis.scale import ScaleSweep
from .chart import Chart
from .kinds import view_of

Diffs = Mapping[float, Mapping[str, float]]  # zoom -> unit -> mean(b - a)


def profile_diffs(profile: Profile | None) -> Diffs | None:
    """mean(b − a) per multi-path unit at each zoom of a profile, or None."""
    if profile is None or len(profile.scales) < 2:
        return None
    multi = [g.name for g in difference_gates(profile.gates)]
    if not multi:
        return None
    return {scale: {name: mean_attention_difference(profile, name, si) for name in multi}
            for si, scale in enumerate(profile.scales)}


def rises(diffs: Diffs, low: float = 1.0, high: float = 2.0) -> dict[str, float]:
    """Change of mean(b − a) per unit from zoom ``low`` to ``high`` (positive: toward path b)."""
    return {unit: diffs[high][unit] - diffs[low][unit] for unit in diffs[low]}


def reading(image: Diffs, dataset: Diffs | None) -> str:
    """Whether this photo follows the dataset's trend, unit by unit (from 1.0× to 2.0×)."""
    if 1.0 not in image or 2.0 not in image:
        return ""
    mine = rises(image)
    up = [u for u, d in mine.items() if d > 0]
    text = _("On this photo, b − a rises from 1× to 2× in {up} of {units} units.").format(up=len(up), units=len(mine))
    if dataset is not None and 1.0 in dataset and 2.0 in dataset:
        trend = rises(dataset)
        same = [u for u in mine if u in trend and np.sign(mine[u]) == np.sign(trend[u])]
        text = sentences(text, _("Over the dataset it rises in {up} of {units}; this photo moves the same way as the dataset "
                        "in {same} of {units} units. One photo is noisy: trust the dataset's curve for the model's "
                        "behaviour.").format(up=sum(d > 0 for d in trend.values()), units=len(trend), same=len(same)))
    return text


def paper_comparison(dataset: Diffs | None, model: str, kinds: Sequence[AttentionKind] = ()) -> str:
    """What SKNet found, what this model's profile shows (computed), and why they may differ (in the
    words of ``kinds``, the kinds of the model's units; SK's when none is given)."""
    # the paper's finding is SKNet's, whatever this model's kind
    text = _(view_of("sk").scale_paper_finding) + "\n\n"
    if dataset is None or 1.0 not in dataset or 2.0 not in dataset:
        return text + _("**This model** ({model}) ships no profile at 1.0× and 2.0×, so its trend is not known "
                        "here.").format(model=model)
    trend = rises(dataset)
    up = [u for u, d in trend.items() if d > 0]
    largest = max(trend.values())
    this = _("**This model** ({model}, over its profile's images): b − a rises from 1.0× to 2.0× in "
             "{up} of {units} units ({names}), by at most {largest:+.3f}.").format(
        model=model, up=len(up), units=len(trend), names=", ".join(up) or _("none"), largest=largest)
    # Why they may differ is each kind's to say: an SK unit's kernels, ResNeSt's splits.
    why = [view_of(kind).scale_difference_note() for kind in dict.fromkeys(kinds)] or \
        [view_of("sk").scale_difference_note()]
    return text + this + "\n\n" + "\n\n".join(note for note in why if note)


def scale_charts(sweep: ScaleSweep, unit: str, dataset: Diffs | None = None) -> list[Chart]:
    """The mean difference of every unit at each zoom for the photos (beside the dataset's, when
    known), and b per channel of ``unit`` at each zoom."""
    n = len(next(iter(sweep.analyses.values())))
    over = _("this photo") if n == 1 else _("these {n} photos (mean)").format(n=n)
    weights = {s: sweep.path_weights(s, unit, 1) for s in sweep.scales}
    gate = next(g for g in sweep.gates if g.name == unit)
    label = view_of(gate).path_labels(gate.paths)[1]
    diffs = {s: sweep.mean_diff(s) for s in sweep.scales}
    charts = [Chart("scale_mean_difference", scale_figures.mean_difference_by_scale(
        diffs, title=_("b − a per unit at each zoom — {over}").format(over=over)),
        # What a and b are is the kind's to say: an SK unit's kernels, ResNeSt's splits.
        sentences(*[view_of(k).scale_sentence() for k in dict.fromkeys(g.kind for g in sweep.gates
                                                                       if g.compares_paths)],
                  _("b − a is averaged over a unit's channels; a rise with the zoom means the unit gives b more "
                    "weight for larger objects."), reading(diffs, dataset)), wide=dataset is None)]
    if dataset is not None:
        charts.append(Chart("scale_mean_difference_dataset", scale_figures.mean_difference_by_scale(
            dataset, title=_("b − a per unit at each zoom — the dataset (the model's profile)")),
            _("The same experiment over every image of the model's profile: the trend the photo is compared with."),
            wide=False))
    b_low, b_high = weights[min(weights)], weights[max(weights)]
    charts.append(Chart(f"scale_channels_{unit}", scale_figures.channel_weights_by_scale(
        unit, weights, label, title=_("{unit}: {label} per channel, at each zoom — {over}").format(
            unit=unit, label=label, over=over)),
        _("Each line is one zoom; the y axis is fitted to the values. From {low:g}× to {high:g}× {more} of "
          "{channels} channels of {unit} give more weight to {label}.").format(
            low=min(weights), high=max(weights), more=int((b_high > b_low).sum()), channels=len(b_low), unit=unit,
            label=label)))
    return charts
