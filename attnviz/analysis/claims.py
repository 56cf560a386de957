"""One criterion per claim: what attnviz means when it says a block is *saturated*, that a
statistic *rises with depth*, or that a block is *class-agnostic*. The Compare page, the report,
the model cards, the CLI and notebook 02 all decide through these functions, so a claim cannot
mean one thing on a page and another in a notebook.

* **saturated** (the SENet paper, Section 7.2, on SE_5_2: "a tendency towards a saturated state
  in which most of the activations are close to one"): at least ``SATURATED_SHARE`` (half) of a
  block's compared values, over its images and channels, are at least ``SATURATED_VALUE`` (0.9);
  read exactly from the profile's histogram (0.9 is one of its bin edges).
* **rises / falls with depth**: Spearman's rank correlation between a block's position and the
  statistic, over the blocks the claim is about, with a two-sided p-value (exact up to 9 blocks)
  below ``ALPHA``; the verdict states rho, p and the number of blocks. For the SENet claim that
  class dependence grows with depth, the blocks are those before the last stage: the paper
  describes the last stage separately (SE_5_2 near saturation, SE_5_3 alike across classes up to
  a modest change in scale), so a trend over every block would mix the two claims.
* **class-agnostic / class-dependent** (``class_verdict``), from ``class_stats.ClassDependence``:
  below ``class_stats.MIN_IMAGES_PER_CLASS`` images in a class, *not distinguishable from chance*
  (no verdict); *class-agnostic* when the upper end of the omega squared interval is below
  ``SMALL_EFFECT``; *not distinguishable from chance* when the block's p-value is not below
  ``ALPHA``; *class-dependent* when the lower end of the interval is at least ``SMALL_EFFECT``;
  else *weakly class-dependent*. ``SMALL_EFFECT`` = 0.06 is Cohen's (1988) conventional "medium"
  share of variance explained: below it the class explains little of how the images differ.
"""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Sequence

import numpy as np

from ..profiles.class_stats import ClassDependence, compared_path
from ..gates import Gate
from ..i18n import N_
from ..profiles.profile import Profile
from .statistics import RankCorrelation, spearman

ALPHA = 0.05
SATURATED_VALUE = 0.9
SATURATED_SHARE = 0.5
SMALL_EFFECT = 0.06

#: The verdict words (translated where they are shown: ``_(VERDICTS[key])``).
VERDICTS = {
    "too_few": N_("not distinguishable from chance with so few images"),
    "chance": N_("not distinguishable from chance"),
    "agnostic": N_("class-agnostic"),
    "weak": N_("weakly class-dependent"),
    "dependent": N_("class-dependent"),
}
TRENDS = {"rises": N_("rises"), "falls": N_("falls"), "none": N_("shows no significant trend"),
          "too_few": N_("cannot be tested (fewer than 3 blocks)")}


def class_verdict(dependence: ClassDependence) -> str:
    """The key of ``VERDICTS`` for one block (the criterion in the module's text)."""
    if not dependence.enough_images:
        return "too_few"
    low, high = dependence.omega_squared_interval
    if np.isfinite(high) and high < SMALL_EFFECT:
        return "agnostic"
    if not dependence.p < ALPHA:
        return "chance"
    if np.isfinite(low) and low >= SMALL_EFFECT:
        return "dependent"
    return "weak"


@dataclass(frozen=True)
class DepthTrend:
    """Whether a statistic rises or falls with depth over ``blocks``: Spearman's rho between the
    blocks' positions and their values, its two-sided p-value, and the verdict key of ``TRENDS``."""

    blocks: tuple[str, ...]
    values: tuple[float, ...]
    test: RankCorrelation

    @property
    def n(self) -> int:
        return len(self.blocks)

    @property
    def verdict(self) -> str:
        if self.n < 3:
            return "too_few"
        if self.test.p < ALPHA:
            return "rises" if self.test.rho > 0 else "falls"
        return "none"


def depth_trend(blocks: Sequence[str], values: Sequence[float]) -> DepthTrend:
    """The depth test of ``values`` (one per block, in depth order)."""
    return DepthTrend(tuple(blocks), tuple(float(v) for v in values), spearman(np.arange(len(values)), values))


def blocks_before_last_stage(gates: Sequence[Gate]) -> list[str]:
    """The blocks the SENet claim "class dependence rises with depth" is about: every gate of a
    stage before the last (all gates when no stage is known)."""
    known = [g.stage for g in gates if g.stage is not None]
    if not known:
        return [g.name for g in gates]
    return [g.name for g in gates if g.stage is not None and g.stage < max(known)]


def last_stage_blocks(gates: Sequence[Gate]) -> list[str]:
    """The gates of the last stage (the last gate when no stage is known)."""
    known = [g.stage for g in gates if g.stage is not None]
    if not known:
        return [g.name for g in gates[-1:]]
    return [g.name for g in gates if g.stage == max(known)]


@dataclass(frozen=True)
class Saturation:
    """Share of a block's compared values (over images and channels) at or above
    ``SATURATED_VALUE``, their mean, and whether that makes the block saturated."""

    gate: str
    share_high: float
    mean: float

    @property
    def saturated(self) -> bool:
        return self.share_high >= SATURATED_SHARE


def saturation(profile: Profile, gate: str, scale_index: int = 0, classes: Sequence[int] | None = None) -> Saturation:
    """The saturation criterion of one block, from its histogram (exact: 0.9 must be a bin edge)."""
    edges = np.asarray(profile.bin_edges, dtype=np.float64)
    at = np.flatnonzero(np.isclose(edges, SATURATED_VALUE))
    if not at.size:
        raise ValueError(f"the profile's histogram has no bin edge at {SATURATED_VALUE}; "
                         f"its edges are {edges.tolist()}")
    path = compared_path(profile.gate_info(gate))
    chosen = slice(None) if classes is None else list(classes)
    hist = profile.hist(gate, scale_index)[chosen, path].sum(axis=0).astype(np.float64)    # (B,)
    share = float(hist[at[0]:].sum() / hist.sum()) if hist.sum() else float("nan")
    mean = float(profile.overall_mean(gate, scale_index, None if classes is None else list(classes))[path].mean())
    return Saturation(gate, share, mean)


@dataclass(frozen=True)
class ExcitationReading:
    """What a profile says about the SENet paper's three claims (Section 7.2), each decided by this
    module's criterion: class dependence by block, its depth trend over the blocks before the last
    stage (eta squared and class specificity), and the saturation of the last stage's blocks."""

    dependences: tuple[ClassDependence, ...]
    eta_trend: DepthTrend
    specificity_trend: DepthTrend
    last_stage: tuple[Saturation, ...]

    @property
    def verdicts(self) -> dict[str, str]:
        return {d.gate: class_verdict(d) for d in self.dependences}

    @property
    def enough_images(self) -> bool:
        return all(d.enough_images for d in self.dependences)


def excitation_reading(profile: Profile, gates: Sequence[Gate], classes: Sequence[int] | None = None,
                       scale_index: int = 0, dependences: Sequence[ClassDependence] | None = None
                       ) -> ExcitationReading:
    """The ``ExcitationReading`` of ``gates`` (the profile's ``Gate``s, depth order) over ``classes``;
    ``dependences`` may be passed when already computed (one per gate, same order)."""
    from ..profiles.class_stats import class_dependence

    deps = tuple(dependences) if dependences is not None else tuple(
        class_dependence(profile, g.name, classes, scale_index) for g in gates)
    by_name = {d.gate: d for d in deps}
    before = [name for name in blocks_before_last_stage(gates) if name in by_name]
    return ExcitationReading(
        deps,
        depth_trend(before, [by_name[n].eta_squared for n in before]),
        depth_trend(before, [by_name[n].specificity for n in before]),
        tuple(saturation(profile, n, scale_index, classes) for n in last_stage_blocks(gates)))
