"""Class statistics of a profile, as the SENet paper's "role of excitation" analysis uses them:
which blocks and channels to show, class-mean values per block, how class-specific each block is,
and how alike the classes are. Shared by the app's Compare page, the CLI and notebook 02.

Every function reads a ``Profile`` (``attnviz.profiles``); the value compared for a gate is the
one its kind names (``AttentionKind.compared_path``): s for SE and ECA, b (the 5x5 path) for SK,
the last split for split attention.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .errors import AttnvizError
from .gates import Gate, kind_named
from .i18n import _
from .profiles import Profile
from .stats import PairedTest, class_specificity, cosine_similarity_matrix, paired_t_from_moments

#: The SENet paper plots 50 channels of each block, sampled uniformly.
PAPER_CHANNELS = 50


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
    last_stage = max(g.stage for g in staged)
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


def compared_path(gate: dict) -> int:
    """The path compared across classes for a profile's gate (its kind says which)."""
    return kind_named(gate["kind"]).compared_path(gate["paths"])


def value_label(gate: dict, path: int | None = None) -> str:
    """Axis label of a profile gate's path (default: the compared one)."""
    path = compared_path(gate) if path is None else path
    return kind_named(gate["kind"]).path_labels(gate["paths"])[path]


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
    """``stats.class_specificity`` of one block over the chosen classes (weighted by images)."""
    return class_specificity(class_means(profile, gate, classes, scale_index),
                             profile.counts(scale_index)[list(classes)])


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


def mean_attention_difference(profile: Profile, gate: str, scale_index: int = 0,
                              classes: Sequence[int] | None = None) -> float:
    """SKNet's mean attention difference of a gate with two or more paths over the images of
    ``classes`` (default: all) at one scale: the mean over images and channels of b - a (path 1
    minus path 0). Positive: the unit leans on the larger kernel."""
    means = profile.mean(gate, scale_index)                                  # (K, P, C)
    n = profile.counts(scale_index).astype(np.float64)
    chosen = list(range(len(n))) if classes is None else list(classes)
    per_class = (means[chosen, 1] - means[chosen, 0]).mean(axis=1)          # (k,)
    return float((per_class * n[chosen]).sum() / max(n[chosen].sum(), 1))


def scale_shift_tests(profile: Profile, gates: Sequence[str], from_scale: float = 1.0, to_scale: float = 2.0,
                      classes: Sequence[int] | None = None) -> list[PairedTest]:
    """For each gate, a paired t-test (``stats.PairedTest``) of the per-image change of its mean
    attention difference from ``from_scale`` to ``to_scale``, over every image of the profile (or
    of ``classes``), from the paired moments the profile stores. KeyError when it has none
    (``Profile.has_pairs``: profiles made before they were stored)."""
    i, j = profile.scale_index(from_scale), profile.scale_index(to_scale)
    return [paired_t_from_moments(*profile.paired_moments(g, i, j, None if classes is None else list(classes)))
            for g in gates]
