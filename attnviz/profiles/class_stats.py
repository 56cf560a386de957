"""Class statistics of a profile, as the SENet paper's "role of excitation" analysis uses them:
which blocks and channels to show, class-mean values per block, how much each block depends on the
class (``class_dependence``: eta squared, omega squared, their noise floor and intervals, and
attnviz's older class specificity), and how alike the classes are. Shared by the app's Compare
page, the report, the model cards, the CLI (``attnviz class-stats``) and notebook 02; the
verdicts drawn from these numbers are in ``attnviz.analysis.claims``.

Every function reads a ``Profile`` (``attnviz.profiles.profile``); the value compared for a gate is the
one its kind names (``AttentionKind.compared_path``): s for SE and ECA, b (the 5x5 path) for SK,
the last split for split attention.
"""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Sequence

import numpy as np

from ..errors import AttnvizError
from ..gates import Gate
from ..i18n import _
from .profile import Profile
from ..analysis.statistics import (OneWayAnova, PairedTest, anova_from_moments, class_draws, class_specificity,
                    cosine_similarity_matrix, holm_adjust, paired_t_from_moments)
from ..analysis.statistics import mean_attention_difference as _attention_difference

#: The SENet paper plots 50 channels of each block, sampled uniformly.
PAPER_CHANNELS = 50
#: Below this many images in its smallest class, a block's class dependence is shown with its
#: noise floor but not judged: with 3 images per class, chance alone gives eta squared about
#: (k - 1) / (n - 1) = 0.31 for 10 classes, and the normal-theory null and interval lean on their
#: assumptions more than a reader can check.
MIN_IMAGES_PER_CLASS = 10
#: Replicates of the parametric bootstrap (``stats.class_draws``) and the interval's level.
DRAWS = 1000
LEVEL = 0.95


@dataclass
class BlockClassMeans:
    """One block's class statistics over a fixed subset of its channels.

    means, stds: (K, n) class mean / standard deviation; overall: (n,) mean over all images;
    channels: (n,) the real channel indices, in the order they are plotted.
    """

    gate: str
    channels: np.ndarray
    means: np.ndarray
    stds: np.ndarray
    overall: np.ndarray


def paper_default_blocks(gates: Sequence[Gate]) -> list[str]:
    """The SENet paper's choice: the last block of each stage, and every block of the last stage.

    Gates without a recognised stage fall back to the last gate.
    """
    staged = [g for g in gates if g.stage is not None]
    if not staged:
        return [gates[-1].name] if gates else []
    last_stage = max(g.stage for g in staged if g.stage is not None)
    chosen = []
    for g in staged:
        last_of_stage = g is [h for h in staged if h.stage == g.stage][-1]
        if last_of_stage or g.stage == last_stage:
            chosen.append(g.name)
    return chosen


def sampled_channels(channels: int, n: int = PAPER_CHANNELS) -> np.ndarray:
    """A fixed subset of n channels spread uniformly over 0..channels-1 (all when fewer)."""
    if channels <= n:
        return np.arange(channels)
    return np.unique(np.linspace(0, channels - 1, n).round().astype(int))


def compared_path(gate: Gate) -> int:
    """The path compared across classes for a gate (its kind says which)."""
    return gate.kind.compared_path(gate.paths)


def value_label(gate: Gate, path: int | None = None) -> str:
    """Axis label of a gate's path (default: the compared one)."""
    path = compared_path(gate) if path is None else path
    from ..views.kinds import view_of  # the kind's words

    return view_of(gate.kind.name).path_labels(gate.paths)[path]


def present_classes(profile: Profile, scale_index: int = 0) -> list[int]:
    """Classes with at least one image at this scale."""
    return [k for k, n in enumerate(profile.counts(scale_index)) if n > 0]


def class_means(profile: Profile, gate: str, classes: Sequence[int], scale_index: int = 0) -> np.ndarray:
    """(K, C) class-mean values of ``gate``'s compared path for the chosen classes."""
    return profile.mean(gate, scale_index)[list(classes), compared_path(profile.gate_info(gate))]


def block_class_means(profile: Profile, gate: str, classes: Sequence[int], scale_index: int = 0,
                      n_channels: int = PAPER_CHANNELS, sort: bool = False) -> BlockClassMeans:
    """The role-of-excitation data of one block: class means and stds of ``n_channels`` channels
    sampled uniformly (the same for every class), optionally ordered by the all-class mean."""
    path = compared_path(profile.gate_info(gate))
    means = class_means(profile, gate, classes, scale_index)
    stds = profile.std(gate, scale_index)[list(classes), path]
    overall = profile.overall_mean(gate, scale_index)[path]               # over every class
    channels = sampled_channels(means.shape[1], n_channels)
    if sort:
        channels = channels[np.argsort(-overall[channels], kind="stable")]
    return BlockClassMeans(gate, channels, means[:, channels], stds[:, channels], overall[channels])


def specificity(profile: Profile, gate: str, classes: Sequence[int], scale_index: int = 0) -> float:
    """``stats.class_specificity`` of one block's compared path over the chosen classes (weighted
    by images)."""
    return class_specificity(class_means(profile, gate, classes, scale_index),
                             profile.counts(scale_index)[list(classes)])


def anova(profile: Profile, gate: str, classes: Sequence[int], scale_index: int = 0) -> OneWayAnova:
    """The one-way ANOVA of every channel of ``gate``'s compared path over the images of
    ``classes``, from the profile's per-class counts, means and M2."""
    path, chosen = compared_path(profile.gate_info(gate)), list(classes)
    return anova_from_moments(profile.counts(scale_index)[chosen], profile.mean(gate, scale_index)[chosen, path],
                              profile.m2[gate][scale_index][chosen, path])


def _interval(estimate: float, replicates: np.ndarray | None, low: float = 0.0, high: float = 1.0
              ) -> tuple[float, float]:
    """The basic (reverse-percentile) bootstrap interval 2 t - q_hi, 2 t - q_lo at ``LEVEL``,
    clipped to [low, high]. Eta squared and specificity are biased upward by noise, and their
    replicates are biased the same way around the estimate, so the plain percentile interval
    would sit too high (it covered a known population's eta squared in 56-88 % of samples where
    this one covers 92-95 %; tests/profiles/test_class_stats.py)."""
    if replicates is None or not np.isfinite(replicates).any() or not np.isfinite(estimate):
        return (float("nan"), float("nan"))
    tail = 100 * (1 - LEVEL) / 2
    q_low, q_high = np.nanpercentile(replicates, [tail, 100 - tail])
    return (float(np.clip(2 * estimate - q_high, low, high)), float(np.clip(2 * estimate - q_low, low, high)))


@dataclass(frozen=True)
class ClassDependence:
    """How much one block's compared value depends on the class, over the images of some classes.

    eta_squared: mean over channels of eta^2 = SS_between / SS_total, the share of the channel's
    image-to-image variation that the class explains (one-way ANOVA at the image level); its
    noise floor when the class does not matter: ``eta_squared_null`` = (k - 1) / (n - 1) on
    average and ``eta_squared_null_q95``, the 95th percentile of one channel's null distribution
    Beta((k - 1) / 2, (n - k) / 2) (channels taken as perfectly dependent, the widest case).
    omega_squared: the mean over channels of the bias-corrected omega^2 (about 0 by chance).
    p: the smallest per-channel F-test p-value times the number of channels (Bonferroni, valid
    however the channels depend on each other), capped at 1: "does this block treat the classes
    alike?" is rejected when p < alpha; ``channels_significant``: channels whose Holm-adjusted
    p-value is below 0.05. specificity: ``stats.class_specificity`` of the class means, with
    ``specificity_null`` (mean) and ``specificity_null_q95``, its noise floor from class means
    drawn around the all-class mean. The intervals (``LEVEL``) are basic bootstrap intervals
    (``_interval``) of the parametric bootstrap ``stats.class_draws`` (the profile keeps no single
    images to resample); they are nan when there is no within-class degree of freedom.
    """

    gate: str
    classes: int
    images: int
    min_per_class: int
    channels: int
    eta_squared: float
    eta_squared_interval: tuple[float, float]
    eta_squared_null: float
    eta_squared_null_q95: float
    omega_squared: float
    omega_squared_interval: tuple[float, float]
    p: float
    channels_significant: int
    specificity: float
    specificity_interval: tuple[float, float]
    specificity_null: float
    specificity_null_q95: float

    @property
    def enough_images(self) -> bool:
        """Whether every class has ``MIN_IMAGES_PER_CLASS`` images (and there are two classes)."""
        return self.classes >= 2 and self.min_per_class >= MIN_IMAGES_PER_CLASS

    def as_dict(self) -> dict:
        out = {key: getattr(self, key) for key in self.__dataclass_fields__}
        out.update({key: list(value) for key, value in out.items() if isinstance(value, tuple)})
        return {key: (None if isinstance(value, float) and not np.isfinite(value) else value)
                for key, value in out.items()}


def class_dependence(profile: Profile, gate: str, classes: Sequence[int] | None = None, scale_index: int = 0,
                     draws: int = DRAWS, seed: int = 0) -> ClassDependence:
    """``ClassDependence`` of ``gate``'s compared path over the images of ``classes`` (default:
    every class with images). The one function behind the Compare page, the report, the model
    cards, ``attnviz class-stats`` and notebook 02."""
    chosen = [k for k in (present_classes(profile, scale_index) if classes is None else classes)
              if profile.counts(scale_index)[k] > 0]
    path = compared_path(profile.gate_info(gate))
    counts = profile.counts(scale_index)[chosen]
    means = profile.mean(gate, scale_index)[chosen, path]
    m2 = profile.m2[gate][scale_index][chosen, path]
    result = anova_from_moments(counts, means, m2)
    p = result.p
    finite = np.isfinite(p)
    block_p = float(min(1.0, np.min(p[finite]) * finite.sum())) if finite.any() else float("nan")
    significant = int((holm_adjust(p[finite]) < 0.05).sum()) if finite.any() else 0
    replicates = class_draws(counts, means, m2, draws=draws, seed=seed) if len(chosen) >= 2 else None
    spec = class_specificity(means, counts) if len(chosen) else float("nan")
    null = replicates.specificity_null if replicates is not None else None
    eta, omega = result.eta_squared, result.omega_squared
    eta_mean = float(np.nanmean(eta)) if np.isfinite(eta).any() else float("nan")
    omega_mean = float(np.nanmean(omega)) if np.isfinite(omega).any() else float("nan")
    return ClassDependence(
        gate=gate, classes=len(chosen), images=int(counts.sum()), min_per_class=int(counts.min()) if len(chosen) else 0,
        channels=int(means.shape[1]),
        eta_squared=eta_mean,
        eta_squared_interval=_interval(eta_mean, None if replicates is None else replicates.eta_squared),
        eta_squared_null=result.null_eta_squared, eta_squared_null_q95=result.null_eta_squared_quantile(0.95),
        omega_squared=omega_mean,
        omega_squared_interval=_interval(omega_mean, None if replicates is None else replicates.omega_squared, -1.0),
        p=block_p, channels_significant=significant, specificity=spec,
        specificity_interval=_interval(spec, None if replicates is None else replicates.specificity),
        specificity_null=float(np.mean(null)) if null is not None else float("nan"),
        specificity_null_q95=float(np.quantile(null, 0.95)) if null is not None else float("nan"))


def similarity(profile: Profile, gate: str, classes: Sequence[int], scale_index: int = 0,
               centred: bool = False) -> np.ndarray:
    """Cosine similarity of the classes' mean vectors in one block; ``centred`` subtracts the
    all-class mean first, so that what every class shares does not dominate."""
    means = class_means(profile, gate, classes, scale_index)
    if centred:
        means = means - profile.overall_mean(gate, scale_index)[compared_path(profile.gate_info(gate))]
    return cosine_similarity_matrix(means)


def labelled_classes(labels: Sequence[str]) -> tuple[list[int], list[str]]:
    """Free-text labels (one per image) -> class indices and the sorted distinct class names."""
    cleaned = [str(label).strip() for label in labels]
    empty = [i for i, label in enumerate(cleaned) if not label]
    if empty:
        raise AttnvizError(_("image {n} has no class label; give every image a label").format(n=empty[0] + 1))
    names = sorted(set(cleaned))
    return [names.index(label) for label in cleaned], names


# ---------------------------------------------------------------- scales (SKNet's zoom experiment)


def difference_gates(gates: Sequence[Gate]) -> list[Gate]:
    """The gates that have SKNet's mean attention difference (two paths or more: SK units, split
    attention with radix >= 2), as their kind says."""
    return [g for g in gates if g.kind.compares_paths(g.paths)]


def mean_attention_difference(profile: Profile, gate: str, scale_index: int = 0,
                              classes: Sequence[int] | None = None) -> float:
    """SKNet's mean attention difference of a gate with two or more paths over the images of
    ``classes`` (default: all) at one scale: the mean over images and channels of b - a (path 1
    minus path 0, ``stats.mean_attention_difference``), every image counted once
    (``Profile.overall_mean``). Positive: the unit leans on the larger kernel. What the model
    card, the Scale and Explore pages show of a profile."""
    return float(_attention_difference(profile.overall_mean(gate, scale_index, classes)))  # of (P, C)


def scale_shift_tests(profile: Profile, gates: Sequence[str], from_scale: float = 1.0, to_scale: float = 2.0,
                      classes: Sequence[int] | None = None) -> list[PairedTest]:
    """For each gate, a paired t-test (``stats.PairedTest``) of the per-image change of its mean
    attention difference from ``from_scale`` to ``to_scale``, over every image of the profile (or
    of ``classes``), from the paired moments the profile stores. KeyError when it has none
    (``Profile.has_pairs``: profiles made before they were stored)."""
    i, j = profile.scale_index(from_scale), profile.scale_index(to_scale)
    return [paired_t_from_moments(*profile.paired_moments(g, i, j, None if classes is None else list(classes)))
            for g in gates]
