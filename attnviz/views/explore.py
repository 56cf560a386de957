"""The Explore page's charts: which views apply is the gates' kinds' to say.

Overview charts span every gate (per image, or overlaid for several images); block charts show
one chosen gate, whatever its kind: a channel gate's excitation per channel, an SK unit's split of
each channel between its two kernels, a split-attention unit's weights. Captions say how to read
a chart and what this photo shows; where the model ships a class profile, the SK views compare
the photo with the dataset's average.
"""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Sequence

import numpy as np

from ..figures.literal import chart_text, markdown_text
from ..profiles.class_stats import mean_attention_difference
from ..figures import excitation, prediction, selection, split
from ..gates import EXCITATION, SELECTION, SPLITS, Gate
from ..i18n import _, ngettext, sentences
from ..analysis.inference import ImageAnalysis
from ..profiles.profile import Profile
from ..models.zoo import LoadedModel
from .chart import Chart


@dataclass
class ExploreOptions:
    """The page's display choices; none of them needs a new forward pass."""

    block: str | None = None             # the gate of the block charts (default: default_block)
    sort_channels: bool = False
    distribution: str = "violin"         # 'violin' | 'box'


def prediction_chart(loaded: LoadedModel, analysis: ImageAnalysis, k: int = 5) -> Chart:
    top = analysis.top(loaded.class_names, k)
    fig = prediction.top_k_bars(top, title=_("Top-{k}: {image}").format(k=k, image=chart_text(analysis.name)))
    return Chart(f"top{k}_{analysis.name}", fig,
                 _("The model's {k} most likely classes among the {known} it knows; "
                   "'{label}' gets {prob:.0%}.").format(k=k, known=len(loaded.class_names),
                                                        label=markdown_text(top[0].label), prob=top[0].prob))


def photo_notes(notes: Sequence[tuple[str, str]], shown: int) -> str:
    """The photos' vocabulary and open-set notes as one Markdown text for a full-width box below
    the ``shown`` photos: with one photo its note as it is; with several, one line per note, each
    led by its photo's name (as literal text: names are the visitors')."""
    if shown == 1 and len(notes) == 1:
        return notes[0][1]
    return "\n".join(f"- **{markdown_text(name)}**: {note}" for name, note in notes)


def excitation_reading(values: np.ndarray) -> str:
    """One sentence on what a set of excitations does, from its median and spread."""
    v = np.asarray(values, dtype=float).reshape(-1)
    low, mid, high = np.percentile(v, [10, 50, 90])
    if high - low < 0.25 and 0.3 < mid < 0.7:
        return _("Most channels sit near {mid:.2f} (80 % between {low:.2f} and {high:.2f}): the gates scale "
                 "the channels down by about half and differ only mildly between them.").format(
            mid=mid, low=low, high=high)
    if high > 0.9 and low < 0.1:
        return _("The gates are decisive here: 10 % of the channels get s below {low:.2f} (silenced), "
                 "10 % above {high:.2f} (passed through).").format(low=low, high=high)
    return _("Half the channels get s below {mid:.2f}; 80 % lie between {low:.2f} and {high:.2f}.").format(
        mid=mid, low=low, high=high)


def dataset_mean_difference(profile: Profile | None, gates: Sequence[Gate]) -> dict[str, float] | None:
    """mean(b − a) per multi-path gate over the profile's images at zoom 1.0, or None."""
    if profile is None:
        return None
    out = {g.name: mean_attention_difference(profile, g.name) for g in gates
           if g.compares_paths and g.name in profile.gate_names}
    return out or None


def overview_charts(loaded: LoadedModel, analyses: Sequence[ImageAnalysis],
                    options: ExploreOptions | None = None, profile: Profile | None = None) -> list[Chart]:
    """Charts over every gate: channel gates as a heatmap per image and their per-block
    distribution; SK units as the mean attention difference across depth; split attention as the
    balance of splits across depth."""
    options = options or ExploreOptions()
    gates = loaded.gates
    charts: list[Chart] = []
    excited = excitation.se_gates(gates)
    if excited:
        first = excited[0]
        # One colour scale for every photo shown, so that colours compare across the heatmaps.
        shared = excitation.value_range([a.values[g.name] for a in analyses for g in excited])
        scale = (_("on one scale for the {n} photos shown ({low:.2f} to {high:.2f})").format(
            n=len(analyses), low=shared[0], high=shared[1]) if len(analyses) > 1 else
            _("on a scale fitted to this photo ({low:.2f} to {high:.2f})").format(low=shared[0], high=shared[1]))
        for analysis in analyses:
            values = np.concatenate([analysis.values[g.name].reshape(-1) for g in excited])
            charts.append(Chart(
                f"excitation_heatmap_{analysis.name}",
                excitation.excitation_heatmap(gates, analysis, colour_range=shared),
                _("Each row is one block ({gate} = stage {stage}, block {block}, as in the paper), from the "
                  "input (top) to the output; colour is a channel's excitation s, {scale}. {reading}").format(
                    gate=first.name, stage=first.stage, block=first.block, scale=scale,
                    reading=excitation_reading(values))))
        spread = {g.name: float(np.ptp(np.concatenate([a.values[g.name].reshape(-1) for a in analyses])))
                  for g in excited}
        widest, narrowest = max(spread, key=spread.__getitem__), min(spread, key=spread.__getitem__)
        charts.append(Chart(
            "excitation_distribution", excitation.excitation_distribution(gates, analyses, options.distribution),
            _("Each shape shows how one block's channels are excited (the box: the middle half; the line: "
              "the mean). Widest spread: {widest} (s over {wide:.2f}); narrowest: {narrowest} "
              "({narrow:.2f}).").format(widest=widest, wide=spread[widest], narrowest=narrowest,
                                        narrow=spread[narrowest]), wide=False))
    units = selection.sk_gates(gates)
    if units:
        dataset = dataset_mean_difference(profile, units)
        caption = mean_difference_caption(units, analyses, bool(dataset))
        charts.append(Chart(
            "mean_difference", selection.mean_difference_by_depth(gates, analyses, dataset=dataset),
            caption, wide=False))
    if split.split_gates(gates):
        charts.append(Chart("split_balance", split.split_balance_by_depth(gates, analyses),
                            _("How evenly each split-attention unit weighs its splits, block by block.")))
    return charts


def block_bars_caption(gate: Gate, analyses: Sequence[ImageAnalysis]) -> str:
    """How to read one block's excitation chart and what it shows, from the arrays it draws: bars
    for one photo, one line per photo for several, each photo's extremes named with the photo."""
    def extremes(analysis: ImageAnalysis) -> dict:
        s = np.asarray(analysis.values[gate.name], dtype=float).reshape(-1)
        top, bottom = int(np.argmax(s)), int(np.argmin(s))
        return dict(image=markdown_text(analysis.name), top=top, s_top=s[top], bottom=bottom, s_bottom=s[bottom])

    if len(analyses) == 1:
        return _("Each bar is one channel's excitation s: near 1 the channel passes through, near 0 it is "
                 "silenced. Most excited: channel {top} (s = {s_top:.2f}); least: channel {bottom} "
                 "(s = {s_bottom:.2f}).").format(**extremes(analyses[0]))
    per_photo = [_("{image}: most excited channel {top} (s = {s_top:.2f}), least channel {bottom} "
                   "(s = {s_bottom:.2f}).").format(**extremes(a)) for a in analyses]
    return sentences(_("Each line is one photo, across the block's channels: near 1 a channel passes through, "
                       "near 0 it is silenced."), *per_photo)


def mean_difference_caption(units: Sequence[Gate], analyses: Sequence[ImageAnalysis], dataset: bool) -> str:
    """The SK depth chart's caption: which units lean to the larger kernel, per photo drawn."""
    def leaning(analysis: ImageAnalysis) -> list[str]:
        return [g.name for g in units if selection.mean_difference(analysis.values[g.name]) > 0]

    caption = _(selection.words_of(units[0]).difference_caption)
    if len(analyses) == 1:
        names = leaning(analyses[0])
        told = [ngettext("Here {leaning} of {units} unit leans to it.", "Here {leaning} of {units} units lean to it.",
                         len(units)).format(leaning=len(names), units=len(units)),
                _("Leaning: {names}.").format(names=", ".join(names)) if names else ""]
    else:
        told = [ngettext("{image}: {leaning} of {units} unit leans to it.", "{image}: {leaning} of {units} units lean to it.",
                         len(units)).format(image=markdown_text(a.name), leaning=len(leaning(a)), units=len(units)) for a in analyses]
    return sentences(caption, *told,
                     _("The dashed line is the dataset's average (the model's class profile).") if dataset else "")


def block_charts(gate: Gate, analyses: Sequence[ImageAnalysis], options: ExploreOptions | None = None,
                 profile: Profile | None = None) -> list[Chart]:
    """The charts of one gate, as its kind calls for."""
    options = options or ExploreOptions()
    where = (_("{gate} is stage {stage}, block {block}.").format(gate=gate.name, stage=gate.stage, block=gate.block)
             if gate.stage is not None else "")
    if gate.kind.draws(EXCITATION):
        return [Chart(f"excitation_bars_{gate.name}", excitation.block_bars(gate, analyses, sort=options.sort_channels),
                      sentences(where, block_bars_caption(gate, analyses)), wide=False)]
    if gate.kind.draws(SELECTION):
        dataset_b = None
        if profile is not None and gate.name in profile.gate_names:
            dataset_b = profile.overall_mean(gate.name, 0)[1]
        charts = []
        for analysis in analyses:
            b = np.asarray(analysis.values[gate.name][1], dtype=float)
            note = ""
            if dataset_b is not None:
                diff = b - dataset_b
                most = int(np.argmax(np.abs(diff)))
                note = _("Black ticks: the dataset's average b; this photo departs most in channel {channel} "
                               "(b = {b:.2f} against {mean:.2f}).").format(channel=most, b=b[most],
                                                                           mean=dataset_b[most])
            charts.append(Chart(
                f"b_split_{gate.name}_{analysis.name}", selection.selection_split(gate, analysis, dataset_b,
                    title=_(selection.words_of(gate).split_chart_title).format(
                        gate=gate.name, image=chart_text(analysis.name))),
                sentences(where, _(selection.words_of(gate).split_chart_caption).format(more=int((b > 0.5).sum()), channels=len(b)), note)))
        return charts
    if gate.kind.draws(SPLITS):
        return [Chart(f"split_weights_{gate.name}_{a.name}", split.split_weights(gate, a),
                      sentences(where, _("Each column is one channel; colour is the weight of each split.")))
                for a in analyses]
    return []


def between_photos(gate: Gate, analyses: Sequence[ImageAnalysis]) -> float:
    """How much ``gate``'s values differ between the photos: the mean over its values (every path
    and channel) of their standard deviation across the photos."""
    stacked = np.stack([np.asarray(a.values[gate.name], dtype=float).reshape(-1) for a in analyses])
    return float(stacked.std(axis=0).mean())


def default_block(loaded: LoadedModel, analyses: Sequence[ImageAnalysis] = (),
                  profile: Profile | None = None) -> Gate:
    """The gate shown by default: the one whose values differ most between photos, so that the
    detail view shows something that depends on the photo. With several photos, between these
    photos; with one, between the class means of the model's class profile; with neither, the deepest gate."""
    gates = loaded.gates
    if len(analyses) >= 2:
        return max(gates, key=lambda g: between_photos(g, analyses))
    if profile is not None:
        present = profile.counts(0) > 0
        known = [g for g in gates if g.name in profile.gate_names]
        if present.sum() >= 2 and known:
            # the class means (K, P, C) of the present classes, their spread across classes
            return max(known, key=lambda g: float(profile.mean(g.name, 0)[present].std(axis=0).mean()))
    return gates[-1]


def explore_charts(loaded: LoadedModel, analyses: Sequence[ImageAnalysis],
                   options: ExploreOptions | None = None, profile: Profile | None = None) -> list[Chart]:
    """Every chart of the page: the overview, then the chosen block's (default: ``default_block``)."""
    options = options or ExploreOptions()
    gate = loaded.gate(options.block) if options.block else default_block(loaded, analyses, profile)
    return overview_charts(loaded, analyses, options, profile) + block_charts(gate, analyses, options, profile)
