"""The Compare page's charts, from a class Profile: the role of excitation for the chosen blocks,
the class dependence (eta squared) and class specificity of every block with their intervals and
noise floors, the class similarity matrix of one block.

The numbers come from ``attnviz.profiles.class_stats.class_dependence`` and the verdicts from
``attnviz.analysis.claims``; the classes from a ``Profile`` (``attnviz.profiles.profile``), however it was made: a
saved file (the bundled models ship one), labelled images, or folders of class images.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis import claims
from ..profiles.class_stats import (MIN_IMAGES_PER_CLASS, PAPER_CHANNELS, ClassDependence, block_class_means,
                           class_dependence, similarity, value_label)
from ..errors import AttnvizError
from ..gates import EXCITATION
from ..figures import classes as class_figures
from ..i18n import _, ngettext, sentences
from ..profiles.profile import Profile
from .chart import Chart
from .kinds import view_of


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
            label=label, channels=options.channels, name=profile.class_names[options.classes[highlight]])
    else:
        role = _("Each line is one class's average {label} over its images, for up to {channels} channels per "
                 "block (the same channels for every class, numbered as in the block); the dashed black line is "
                 "the mean of all classes. Where the lines coincide, the block treats every class alike; where "
                 "they part, it is class-specific.").format(label=label, channels=options.channels)
    charts = [Chart("role_of_excitation",
                    class_figures.role_of_excitation(blocks, names, band, label, highlight=highlight, title=title),
                    role)]
    gate_names = profile.gate_names
    dependences = [class_dependence(profile, g, options.classes, si) for g in gate_names]
    charts += dependence_charts(dependences)
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


def _few_images(dependences: list[ClassDependence]) -> str:
    """The warning shown instead of a verdict when some class has too few images (else "")."""
    fewest = min(d.min_per_class for d in dependences)
    if fewest >= MIN_IMAGES_PER_CLASS:
        return ""
    return " " + ngettext(
        "The smallest class has {n} image, fewer than the {minimum} per class this page needs to judge a block: "
        "the values are not distinguishable from chance, whatever they look like.",
        "The smallest class has {n} images, fewer than the {minimum} per class this page needs to judge a block: "
        "the values are not distinguishable from chance, whatever they look like.", fewest).format(
        n=fewest, minimum=MIN_IMAGES_PER_CLASS)


def dependence_charts(dependences: list[ClassDependence]) -> list[Chart]:
    """Eta squared and class specificity of every block, with intervals and noise floors."""
    names = [d.gate for d in dependences]
    eta = [d.eta_squared for d in dependences]
    top, least = int(np.nanargmax(eta)), int(np.nanargmin(eta))
    images = dependences[0].images
    eta_caption = _(
        "η² per channel is the share of the image-to-image variation of the channel's value that the class "
        "explains (one-way analysis of variance over the {images} images); the bar is its mean over the block's "
        "channels, the error bar a {level:.0%} interval (a parametric bootstrap from the class means and "
        "variances), the dashed line the noise floor: what 95 % of blocks reach by chance alone with these "
        "numbers of images. Highest: {top} ({top_value:.3f}); lowest: {least} ({least_value:.3f}).").format(
        images=images, level=0.95, top=names[top], top_value=eta[top], least=names[least], least_value=eta[least])
    spec = [d.specificity for d in dependences]
    spec_caption = _(
        "Class specificity compares only the class averages: the share of their spread, over classes and "
        "channels, that lies between classes rather than between channels. 0: every class has the same average "
        "in every channel; 1: the class averages differ while their mean is the same in every channel. It "
        "ignores how much single images vary, so it is not the share of the images' variation that the class "
        "explains (η² is). Highest: {top} ({top_value:.3f}).").format(
        top=names[int(np.nanargmax(spec))], top_value=float(np.nanmax(spec)))
    few = _few_images(dependences)
    return [
        Chart("class_dependence", class_figures.statistic_bars(
            names, eta, [d.eta_squared_interval for d in dependences], [d.eta_squared_null_q95 for d in dependences],
            _("η² (mean over channels)"), _("How much does each block depend on the class?"), _("noise floor")),
            eta_caption + few, wide=False),
        Chart("class_specificity", class_figures.statistic_bars(
            names, spec, [d.specificity_interval for d in dependences],
            [d.specificity_null_q95 for d in dependences], _("class specificity"),
            _("Class specificity of the class averages"), _("noise floor")), spec_caption + few, wide=False),
    ]


def _trend_text(trend: claims.DepthTrend) -> str:
    if trend.n < 3:
        return _(claims.TRENDS[trend.verdict])
    return _("{verdict} (Spearman ρ = {rho:+.2f}, p = {p:.2g}, {n} blocks)").format(
        verdict=_(claims.TRENDS[trend.verdict]), rho=trend.test.rho, p=trend.test.p, n=trend.n)


def paper_comparison(profile: Profile, classes: list[int], scale_index: int = 0) -> str:
    """What the SENet paper found, what this profile shows (computed, with ``attnviz.analysis.claims``'s
    criteria), and why they may differ."""
    gates = [g for g in profile.gates if g.kind.draws(EXCITATION)]
    if not gates:
        views = [view_of(kind) for kind in dict.fromkeys(g.kind for g in profile.gates)]
        return sentences(_("The SENet paper's *role of excitation* is about SE gates; this model has none."),
                         *[_(v.compare_pointer) for v in views if v.compare_pointer])
    reading = claims.excitation_reading(profile, gates, classes, scale_index)
    verdicts = reading.verdicts
    before = reading.eta_trend.blocks
    saturated = [s.gate for s in reading.last_stage if s.saturated]
    last = ", ".join(f"{s.gate} {s.share_high:.0%}" for s in reading.last_stage)
    paper = _(
        "**The paper** (Hu et al., SENet, Section 7.2 *Role of Excitation*: SE-ResNet-50 on ImageNet; the figure "
        "shows the mean excitation of 50 uniformly sampled channels of several blocks for four classes, goldfish, "
        "pug, plane and cliff, 50 images each, beside the mean over all classes): in the earlier blocks the classes' "
        "lines nearly coincide, the excitation is class-agnostic; deeper, they part and it becomes class-specific. "
        "In the last stage, SE_5_2 tends toward saturation, most of its values close to 1, and SE_5_3 is similar "
        "across classes up to a modest change in scale; the authors suggest the last stage's SE blocks matter less "
        "for recalibration.")
    if not reading.enough_images:
        this = _(
            "**This model** ({model}, {classes} classes): some class has fewer than {minimum} images, so its class "
            "statistics are not distinguishable from chance at this sample size and no verdict is drawn. The "
            "charts show the values with their noise floor.").format(
            model=profile.model, classes=len(classes), minimum=MIN_IMAGES_PER_CLASS)
    else:
        dependent = [n for n, v in verdicts.items() if v in ("dependent", "weak")]
        agnostic = [n for n, v in verdicts.items() if v == "agnostic"]
        this = _(
            "**This model** ({model}, {classes} classes, {images} images): class dependence η² {eta_trend} over "
            "the blocks before the last stage ({blocks}); class specificity {spec_trend}. Blocks whose "
            "dependence on the class is beyond chance: {dependent}; class-agnostic: "
            "{agnostic}. Last stage, share of values ≥ 0.9: {last} — {saturation}.").format(
            model=profile.model, classes=len(classes), images=reading.dependences[0].images,
            eta_trend=_trend_text(reading.eta_trend), blocks=", ".join(before) or "—",
            spec_trend=_trend_text(reading.specificity_trend), dependent=", ".join(dependent) or _("none"),
            agnostic=", ".join(agnostic) or _("none"), last=last,
            saturation=(_("saturated: {blocks}").format(blocks=", ".join(saturated)) if saturated
                        else _("none saturated")))
    criteria = _(
        "**How this is decided**: a block is class-dependent when its η² is beyond chance (F-test of every "
        "channel, Bonferroni over the channels, p < {alpha}) and its bias-corrected ω² is at least {small} "
        "across its interval, class-agnostic when the interval of ω² stays below {small}; a trend with depth is "
        "Spearman's rank correlation with the block's position (p < {alpha}); a block is saturated when at least "
        "half of its values are ≥ 0.9.").format(alpha=claims.ALPHA, small=claims.SMALL_EFFECT)
    why = _("**Why they may differ**: this is a small network trained on a few classes, and was not trained as long "
            "as the paper's. With an internet connection, choose *legacy_seresnet50* (the paper's model) in the "
            "sidebar to compare.")
    return "\n\n".join([paper, this, criteria, why])
