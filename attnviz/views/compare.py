"""The Compare page's charts, from a class Profile: the role of excitation for the chosen blocks,
the class specificity of every block, the class similarity matrix of one block.

The numbers come from ``attnviz.class_stats``; the classes from a ``Profile`` (``attnviz.profiles``),
however it was made: a saved file (the bundled models ship one), labelled images, or folders of
class images.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..class_stats import PAPER_CHANNELS, block_class_means, similarity, specificity, value_label
from ..errors import AttnvizError
from ..gates import kind_named
from ..figures import classes as class_figures
from ..i18n import N_, _
from ..profiles import Profile
from .chart import Chart

#: How class specificity changes with depth (paper_comparison).
TRENDS = {"rises": N_("rises"), "falls": N_("falls"), "level": N_("stays about level")}


@dataclass
class CompareOptions:
    blocks: list[str]
    classes: list[int]               # indices into profile.class_names
    scale_index: int = 0
    band_class: int | None = None    # index into profile.class_names
    channels: int = PAPER_CHANNELS
    sort: bool = False               # order the sampled channels by their all-class mean
    similarity_block: str | None = None
    centred: bool = True             # similarity of class means minus the all-class mean
    highlight: int | None = None     # index into profile.class_names: that class in colour


def compare_charts(profile: Profile, options: CompareOptions) -> list[Chart]:
    """Role-of-excitation lines for the chosen blocks, specificity of every block, and the class
    similarity matrix of one block."""
    if not options.classes:
        raise AttnvizError(_("choose at least one class to compare"))
    if not options.blocks:
        raise AttnvizError(_("choose at least one block"))
    si = options.scale_index
    names = [profile.class_names[k] for k in options.classes]
    band = options.classes.index(options.band_class) if options.band_class in options.classes else None
    blocks = [block_class_means(profile, g, options.classes, si, options.channels, options.sort)
              for g in options.blocks]
    first = profile.gate_info(options.blocks[0])
    label = value_label(first)
    highlight = options.classes.index(options.highlight) if options.highlight in options.classes else None
    if len(profile.scales) > 1:
        title = _("Role of excitation: class-mean {label} per block (scale {scale:g}×)").format(
            label=label, scale=profile.scales[si])
    else:
        title = _("Role of excitation: class-mean {label} per block").format(label=label)
    if highlight is not None:
        role = _("Each line is one class's average {label} over its images, for up to {channels} channels per "
                 "block (the same channels for every class, numbered as in the block); the dashed black line is "
                 "the mean of all classes; {name} in colour. Where the lines coincide, the block treats every "
                 "class alike; where they part, it is class-specific.").format(
            label=label, channels=options.channels, name=profile.class_names[options.highlight])
    else:
        role = _("Each line is one class's average {label} over its images, for up to {channels} channels per "
                 "block (the same channels for every class, numbered as in the block); the dashed black line is "
                 "the mean of all classes. Where the lines coincide, the block treats every class alike; where "
                 "they part, it is class-specific.").format(label=label, channels=options.channels)
    charts = [Chart("role_of_excitation",
                    class_figures.role_of_excitation(blocks, names, band, label, highlight=highlight, title=title),
                    role)]
    gate_names = profile.gate_names
    scores = [specificity(profile, g, options.classes, si) for g in gate_names]
    top = gate_names[int(np.argmax(scores))]
    charts.append(Chart("class_specificity", class_figures.specificity_bars(gate_names, scores),
                        _("Share of the variation of the class averages that lies between classes: 0 means "
                          "every class gets the same values, 1 that only the class matters. Most class-specific "
                          "here: {top} ({top_score:.3f}); least: {least} ({least_score:.3f}).").format(
                            top=top, top_score=max(scores), least=gate_names[int(np.argmin(scores))],
                            least_score=min(scores)), wide=False))
    block = options.similarity_block or options.blocks[-1]
    matrix = similarity(profile, block, options.classes, si, options.centred)
    off = matrix[~np.eye(len(matrix), dtype=bool)] if len(matrix) > 1 else np.zeros(1)
    pair = np.unravel_index(np.argmax(np.where(np.eye(len(matrix), dtype=bool), -np.inf, matrix)), matrix.shape) \
        if len(matrix) > 1 else (0, 0)
    how = (_("after removing what all classes share, so +1 means two classes depart from the average the same "
             "way, −1 opposite ways") if options.centred else _("of the raw class averages (near 1 for all pairs: "
                                                                  "they share most of their values)"))
    charts.append(Chart(f"class_similarity_{block}",
                        class_figures.similarity_matrix(names, matrix, block, options.centred),
                        _("Cosine similarity of the classes' average values in {block}, {how}. Most alike: "
                          "{first} and {second} ({value:.2f}).").format(
                            block=block, how=how, first=names[pair[0]], second=names[pair[1]], value=off.max()),
                        wide=False))
    return charts


def paper_comparison(profile: Profile, classes: list[int], scale_index: int = 0) -> str:
    """What the SENet paper found, what this profile shows (computed), and why they may differ."""
    gates = [g for g in profile.gates if kind_named(g["kind"]).channel_gate]
    if not gates:
        return _("The SENet paper's *role of excitation* is about SE gates; this model has none. For SK "
                 "units, the paper's question is how the kernel choice moves with the object's size: "
                 "see the Scale experiment page.")
    names = [g["name"] for g in gates]
    scores = [specificity(profile, n, classes, scale_index) for n in names]
    stages = [g.get("stage") for g in gates]
    last = max(s for s in stages if s is not None) if any(s is not None for s in stages) else None
    last_blocks = [n for n, st_ in zip(names, stages) if st_ == last] or names[-1:]
    level = float(np.mean([profile.overall_mean(n, scale_index)[0].mean() for n in last_blocks]))
    half = max(1, len(scores) // 2)
    early, late = float(np.mean(scores[:half])), float(np.mean(scores[half:]))
    trend = "rises" if late > early * 1.2 else "falls" if late < early / 1.2 else "level"
    saturation = _("near 1, as in the paper") if level > 0.8 else _("far from 1: not saturated")
    return (
        _("**The paper** (SE-ResNet-50, 1000 ImageNet classes, 50 images per class): early blocks treat "
          "the classes alike, later blocks are class-specific, and the last blocks (SE_5_2, SE_5_3) "
          "saturate near 1, so they hardly matter.")
        + "\n\n"
        + _("**This model** ({model}, {classes} classes): class specificity {trend} with depth (mean {early:.3f} "
            "in the first half of the blocks, {late:.3f} in the second); its last stage ({blocks}) averages "
            "{level:.2f}, {saturation}.").format(
            model=profile.model, classes=len(profile.class_names), trend=_(TRENDS[trend]), early=early, late=late,
            blocks=", ".join(last_blocks), level=level, saturation=saturation)
        + "\n\n"
        + _("**Why they may differ**: this is a small network trained on a few classes, which has little reason "
            "to specialise its deepest blocks per class, and was not trained as long as the paper's. With an "
            "internet connection, choose *legacy_seresnet50* (the paper's model) in the sidebar to compare."))
