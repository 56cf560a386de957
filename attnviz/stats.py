"""Statistics of gate values: per-gate summaries, comparisons across classes, and the paired
tests the notebooks use (a paired t-test from stored moments, Holm's adjustment, McNemar's test)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .gates import Gate


def gate_summary(gate: Gate, values: np.ndarray) -> dict:
    """One gate's values (paths, C) for one image, summarised by its kind.

    Every kind: mean, std, min, max. SE: of the excitation s; ECA adds how strongly neighbouring
    channels agree; SK and split attention add mean_a (3x3 path), mean_b (5x5 path) and
    mean_diff = mean(b - a), the SKNet paper's "mean attention difference".
    """
    row = {"name": gate.name, "kind": gate.kind.name, "module": gate.module,
           "channels": gate.channels, "paths": gate.paths}
    row.update(gate.kind.summary(np.asarray(values, dtype=np.float64).reshape(gate.paths, -1)))
    return row


def class_specificity(class_means: np.ndarray, counts: np.ndarray | None = None) -> float:
    """Share of the variance of class-mean gate values that lies between classes.

    class_means: (classes, channels) - each class's mean value per channel.
    Per channel, the between-class variance of the class means is compared with its total across
    channels and classes: 0 when every class has the same profile (class-agnostic, as the SENet
    paper saw in early blocks), up to 1 when profiles differ only between classes.
    Concretely: sum_c Var_k(m_kc) / Var_{k,c}(m_kc), weighted by class counts when given.
    """
    m = np.asarray(class_means, dtype=np.float64)
    w = np.ones(m.shape[0]) if counts is None else np.asarray(counts, dtype=np.float64)
    w = w / w.sum()
    channel_mean = (w[:, None] * m).sum(axis=0)                      # (C,)
    between = (w[:, None] * (m - channel_mean) ** 2).sum(axis=0)     # per-channel variance across classes
    grand = (w[:, None] * m).sum() / m.shape[1]
    total = (w[:, None] * (m - grand) ** 2).sum(axis=0)              # includes variance across channels
    return float(between.sum() / total.sum()) if total.sum() > 0 else 0.0


def cosine_similarity_matrix(vectors: np.ndarray) -> np.ndarray:
    """Cosine similarity between rows (classes x features)."""
    v = np.asarray(vectors, dtype=np.float64)
    norm = np.linalg.norm(v, axis=1, keepdims=True)
    v = v / np.where(norm == 0, 1, norm)
    return v @ v.T


# ---------------------------------------------------------------- paired tests


@dataclass(frozen=True)
class PairedTest:
    """A two-sided paired t-test of the mean of per-item differences d against 0.

    n: pairs; mean, sd (ddof 1) and se = sd / sqrt(n) of d; t = mean / se with n - 1 degrees of
    freedom; p: two-sided p-value (nan when n < 2; 0 or 1 when every difference is equal).
    """

    n: int
    mean: float
    sd: float
    se: float
    t: float
    p: float


def paired_t_from_moments(n: int, total: float, total_sq: float) -> PairedTest:
    """The paired t-test from the count, sum and sum of squares of the differences, as a profile
    stores them (``Profile.paired_moments``): no per-item values needed."""
    from scipy.stats import t as student_t

    n = int(n)
    if n < 2:
        return PairedTest(n, total / n if n else float("nan"), float("nan"), float("nan"), float("nan"),
                          float("nan"))
    mean = total / n
    var = max(total_sq - n * mean * mean, 0.0) / (n - 1)
    sd = float(np.sqrt(var))
    se = sd / np.sqrt(n)
    if se == 0:
        return PairedTest(n, mean, sd, se, float("nan") if mean == 0 else float(np.sign(mean) * np.inf),
                          1.0 if mean == 0 else 0.0)
    t = mean / se
    return PairedTest(n, mean, sd, float(se), float(t), float(2 * student_t.sf(abs(t), n - 1)))


def paired_t_test(differences) -> PairedTest:
    """The paired t-test of per-item differences (after - before), e.g. a few images' changes."""
    d = np.asarray(differences, dtype=np.float64).ravel()
    return paired_t_from_moments(d.size, float(d.sum()), float((d * d).sum()))


def holm_adjust(pvalues) -> np.ndarray:
    """Holm's step-down adjustment of p-values for testing several hypotheses at once: reject
    hypothesis i at level alpha when its adjusted p-value is below alpha (family-wise error)."""
    p = np.asarray(pvalues, dtype=np.float64)
    order = np.argsort(p)
    adjusted = np.empty_like(p)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        adjusted[i] = running
    return adjusted


def direction_verdicts(tests, alpha: float = 0.05,
                       words: tuple[str, str, str] = ("rises", "falls", "no clear change")) -> tuple[np.ndarray, list[str]]:
    """Holm-adjusted p-values of several ``PairedTest`` and a word for each: ``words[0]`` when
    the mean difference is significantly above 0, ``words[1]`` below 0, else ``words[2]``."""
    adjusted = holm_adjust([t.p for t in tests])
    verdicts = [words[2] if not (q < alpha) else words[0] if t.mean > 0 else words[1]
                for t, q in zip(tests, adjusted)]
    return adjusted, verdicts


@dataclass(frozen=True)
class McNemarTest:
    """McNemar's exact test of two classifiers (or conditions) on the same items.

    n: items; lost: right before, wrong after; gained: wrong before, right after; p: two-sided
    exact p-value, a binomial test of lost against lost + gained with probability 1/2 (1.0 when no
    prediction changed correctness); change: accuracy after minus before.
    """

    n: int
    lost: int
    gained: int
    p: float

    @property
    def change(self) -> float:
        return (self.gained - self.lost) / self.n if self.n else 0.0


def mcnemar_exact(correct_before, correct_after) -> McNemarTest:
    """McNemar's exact test on paired correctness (bool arrays over the same items)."""
    from scipy.stats import binomtest

    before = np.asarray(correct_before, dtype=bool)
    after = np.asarray(correct_after, dtype=bool)
    if before.shape != after.shape:
        raise ValueError(f"paired results must have the same shape, got {before.shape} and {after.shape}")
    lost, gained = int((before & ~after).sum()), int((~before & after).sum())
    p = binomtest(lost, lost + gained, 0.5).pvalue if lost + gained else 1.0
    return McNemarTest(int(before.size), lost, gained, float(p))
