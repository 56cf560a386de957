"""Statistics of gate values: per-gate summaries, comparisons across classes (the one-way ANOVA of
every channel from class moments, its parametric bootstrap, attnviz's class specificity), rank
correlation with depth, and the paired tests the notebooks use (a paired t-test from stored
moments, Holm's adjustment, McNemar's test)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np

if TYPE_CHECKING:  # the kinds (attnviz.gates) call mean_attention_difference: no import cycle
    import torch

    from ..gates import Gate, ValueSummary

Values = TypeVar("Values", np.ndarray, "torch.Tensor")


def mean_attention_difference(values: Values) -> Values:
    """SKNet's mean attention difference of gate values with two or more paths: the mean over
    channels of b - a, path 1 (the dilated "5x5" kernel of SK, the second split of split attention)
    minus path 0. ``values``: (..., paths, C), a numpy array or a torch tensor; the result drops the
    last two axes: a number for one image's (paths, C), (N,) for (N, paths, C). The one home of the
    formula: per image (the profiler's paired statistics, a gate's summary, the live page), over a
    profile's all-image mean (``class_stats.mean_attention_difference``, whose mean over images it
    equals, the difference being linear) and over a sweep's images (``scale.ScaleSweep``)."""
    return (values[..., 1, :] - values[..., 0, :]).mean(-1)


@dataclass(frozen=True)
class GateSummary:
    """One gate's values for one image, summarised by its kind (``AttentionKind.summary``): the
    gate's name, kind name, module path, channels and paths, and ``values``, a ``ValueSummary``
    (mean, std, min, max) or the kind's subclass of it (with two or more paths each path's mean and
    SKNet's mean attention difference; ECA's neighbour correlation)."""

    name: str
    kind: str
    module: str
    channels: int
    paths: int
    values: ValueSummary

    def __getitem__(self, field: str):
        """``summary["mean_diff"]``: a field of the flat row, as the dict rows that ``gate_summary``
        returned before read (code written for them keeps working)."""
        return self.to_dict()[field]

    def to_dict(self) -> dict:
        """The flat JSON row of ``attnviz inspect --json``."""
        return {"name": self.name, "kind": self.kind, "module": self.module, "channels": self.channels,
                "paths": self.paths, **self.values.to_dict()}


def gate_summary(gate: Gate, values: np.ndarray) -> GateSummary:
    """One gate's values (paths, C) for one image, summarised by its kind.

    Every kind: mean, std, min, max. SE: of the excitation s; ECA adds how strongly neighbouring
    channels agree; SK and split attention add each path's mean (mean_a, mean_b of paths 0 and 1)
    and mean_diff = mean(b - a), the SKNet paper's "mean attention difference".
    """
    return GateSummary(name=gate.name, kind=gate.kind.name, module=gate.module, channels=gate.channels,
                       paths=gate.paths,
                       values=gate.kind.summary(np.asarray(values, dtype=np.float64).reshape(gate.paths, -1)))


def class_specificity(class_means: np.ndarray, counts: np.ndarray | None = None) -> float:
    """attnviz's older summary of the SENet figure: how much of the spread of the *class means*
    lies between classes rather than between channels.

    class_means: (classes, channels), each class's mean value per channel; counts: images per class
    (the weights; equal weights when None). With w_k = n_k / N, the all-class mean of channel c
    mu_c = sum_k w_k m_kc and the grand mean g = mean_c mu_c:

        specificity = sum_c sum_k w_k (m_kc - mu_c)^2 / sum_c sum_k w_k (m_kc - g)^2

    The denominator is the numerator plus sum_c (mu_c - g)^2, the spread of the all-class mean
    profile across channels. So 0 means every class has the same mean in every channel, and 1 that
    the class means differ while their average is the same in every channel. It reads class means
    only: how much single images vary within a class does not enter, so it is not the share of
    the images' variation that the class explains (that is ``OneWayAnova.eta_squared``), and it
    depends on how unequal the channels' average values are.
    """
    m = np.asarray(class_means, dtype=np.float64)
    w = np.ones(m.shape[0]) if counts is None else np.asarray(counts, dtype=np.float64)
    w = w / w.sum()
    channel_mean = (w[:, None] * m).sum(axis=0)                      # (C,)
    between = (w[:, None] * (m - channel_mean) ** 2).sum(axis=0)     # per-channel variance across classes
    grand = (w[:, None] * m).sum() / m.shape[1]
    total = (w[:, None] * (m - grand) ** 2).sum(axis=0)              # includes variance across channels
    return float(between.sum() / total.sum()) if total.sum() > 0 else 0.0


# ---------------------------------------------------------------- one-way ANOVA from class moments


@dataclass(frozen=True)
class OneWayAnova:
    """The one-way analysis of variance of every channel, with the class as the factor, from each
    class's count, mean and sum of squared deviations (M2) - what a profile stores.

    k classes (with at least one image), n images; ss_between, ss_within: (C,) per channel,
    ss_between = sum_k n_k (m_k - m)^2 around the count-weighted grand mean m, ss_within = sum_k M2_k
    (so ss_between + ss_within is the total sum of squares of the n images, exactly).
    """

    k: int
    n: int
    ss_between: np.ndarray
    ss_within: np.ndarray

    @property
    def df_between(self) -> int:
        return self.k - 1

    @property
    def df_within(self) -> int:
        return self.n - self.k

    @property
    def eta_squared(self) -> np.ndarray:
        """(C,) share of each channel's image-to-image sum of squares that lies between classes
        (nan where the channel does not vary at all)."""
        total = self.ss_between + self.ss_within
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, self.ss_between / np.where(total > 0, total, 1), np.nan)

    @property
    def omega_squared(self) -> np.ndarray:
        """(C,) Hays' bias-corrected omega squared, (SSB - (k-1) MSW) / (SST + MSW); about 0 when
        the class does not matter (eta squared is then about (k-1)/(n-1)); nan without a
        within-class degree of freedom."""
        if self.df_within < 1:
            return np.full(self.ss_between.shape, np.nan)
        msw = self.ss_within / self.df_within
        total = self.ss_between + self.ss_within
        denominator = total + msw
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(denominator > 0, (self.ss_between - self.df_between * msw)
                            / np.where(denominator > 0, denominator, 1), np.nan)

    @property
    def f(self) -> np.ndarray:
        """(C,) the F statistic MSB / MSW (nan without degrees of freedom, inf when MSW = 0 < MSB)."""
        if self.df_between < 1 or self.df_within < 1:
            return np.full(self.ss_between.shape, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (self.ss_between / self.df_between) / (self.ss_within / self.df_within)

    @property
    def p(self) -> np.ndarray:
        """(C,) one-sided p-value of each channel's F under "the class does not matter" (normal
        errors of equal variance): the F(k-1, n-k) upper tail."""
        from scipy.stats import f as f_distribution

        return f_distribution.sf(self.f, self.df_between, self.df_within) if self.df_within >= 1 \
            and self.df_between >= 1 else np.full(self.ss_between.shape, np.nan)

    @property
    def null_eta_squared(self) -> float:
        """Expected eta squared when the class does not matter: (k-1)/(n-1), the mean of its null
        distribution Beta((k-1)/2, (n-k)/2)."""
        return self.df_between / (self.n - 1) if self.n > 1 else float("nan")

    def null_eta_squared_quantile(self, q: float = 0.95) -> float:
        """The q-quantile of one channel's eta squared when the class does not matter."""
        from scipy.stats import beta

        if self.df_between < 1 or self.df_within < 1:
            return float("nan")
        return float(beta.ppf(q, self.df_between / 2, self.df_within / 2))


def anova_from_moments(counts, means, m2) -> OneWayAnova:
    """``OneWayAnova`` of every channel from per-class counts (k,), means (k, C) and M2 (k, C);
    classes without images are left out. The classes are merged as a profile merges them
    (Chan et al.): the grand mean is count-weighted and the within-class sums of squares add."""
    n_k = np.asarray(counts, dtype=np.float64)
    m = np.asarray(means, dtype=np.float64)
    ss = np.asarray(m2, dtype=np.float64)
    keep = n_k > 0
    n_k, m, ss = n_k[keep], m[keep], ss[keep]
    n = n_k.sum()
    grand = (n_k[:, None] * m).sum(axis=0) / max(n, 1)
    between = (n_k[:, None] * (m - grand) ** 2).sum(axis=0)
    return OneWayAnova(int(keep.sum()), int(n), between, ss.sum(axis=0))


def anova_from_values(values, labels) -> OneWayAnova:
    """``OneWayAnova`` of every channel from raw values (N, C) and their class labels (N,)."""
    x = np.asarray(values, dtype=np.float64).reshape(len(labels), -1)
    y = np.asarray(labels)
    groups = [x[y == k] for k in np.unique(y)]
    return anova_from_moments([len(g) for g in groups], [g.mean(axis=0) for g in groups],
                              [((g - g.mean(axis=0)) ** 2).sum(axis=0) for g in groups])


@dataclass(frozen=True)
class ClassDraws:
    """Replicates of a block's class statistics from ``class_draws``: eta squared and omega
    squared (means over channels), class specificity, and class specificity under the null."""

    eta_squared: np.ndarray
    omega_squared: np.ndarray
    specificity: np.ndarray
    specificity_null: np.ndarray


def _channel_means_of_eta_omega(n_k: np.ndarray, means: np.ndarray, ss_within: np.ndarray,
                                df_within: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean over channels of eta^2 and omega^2 for stacked replicates: means (B, k, C), ss_within (B, C)."""
    n = n_k.sum()
    grand = (n_k[None, :, None] * means).sum(axis=1) / n
    between = (n_k[None, :, None] * (means - grand[:, None, :]) ** 2).sum(axis=1)
    total = between + ss_within
    msw = ss_within / df_within
    with np.errstate(invalid="ignore", divide="ignore"):
        eta = np.where(total > 0, between / np.where(total > 0, total, 1), np.nan)
        omega = np.where(total + msw > 0, (between - (len(n_k) - 1) * msw) / np.where(total + msw > 0, total + msw, 1),
                         np.nan)
    return np.nanmean(eta, axis=1), np.nanmean(omega, axis=1)


def _stacked_specificity(means: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``class_specificity`` of stacked replicates of class means (B, k, C), all at once."""
    w = (counts / counts.sum())[None, :, None]
    channel_mean = (w * means).sum(axis=1, keepdims=True)                          # (B, 1, C)
    between = (w * (means - channel_mean) ** 2).sum(axis=(1, 2))
    grand = channel_mean.mean(axis=2, keepdims=True)                               # (B, 1, 1)
    total = (w * (means - grand) ** 2).sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, between / np.where(total > 0, total, 1), 0.0)


def class_draws(counts, means, m2, draws: int = 1000, seed: int = 0) -> ClassDraws | None:
    """A parametric bootstrap of a block's class statistics from per-class summaries alone.

    The profile keeps each class's count, mean and M2 per channel, not the images, so the images
    cannot be resampled. Instead, with the one-way ANOVA's model (normal values, one within-class
    variance per channel, the pooled sigma_c^2 = SSW_c / (n - k)), each replicate draws what those
    summaries would be in a new sample of the same class sizes: class means
    m*_kc = m_kc + sigma_c z_k / sqrt(n_k) and within sums of squares SSW*_c = sigma_c^2 X with
    z_k ~ N(0, 1) and X ~ chi^2(n - k). The same z_k and X serve every channel of a class: the
    profile holds no covariance between channels, and drawing them as perfectly dependent is the
    widest case for a mean over channels (independent draws would make the interval too narrow
    whenever channels move together, as they do). ``specificity_null`` draws the class means
    around the all-class mean instead (the class does not matter), the noise floor of class
    specificity. Returns None when there is no within-class degree of freedom (n <= k) or fewer
    than two classes. Deterministic for a given seed.
    """
    n_k = np.asarray(counts, dtype=np.float64)
    keep = n_k > 0
    n_k, m = n_k[keep], np.asarray(means, dtype=np.float64)[keep]
    ss = np.asarray(m2, dtype=np.float64)[keep]
    k, n = len(n_k), int(n_k.sum())
    if k < 2 or n <= k:
        return None
    rng = np.random.default_rng(seed)
    sigma = np.sqrt(ss.sum(axis=0) / (n - k))                                   # (C,)
    grand = (n_k[:, None] * m).sum(axis=0) / n
    out: dict[str, list[np.ndarray]] = {"eta": [], "omega": [], "spec": [], "null": []}
    chunk = max(1, int(2e6 // max(1, k * m.shape[1])))
    for start in range(0, draws, chunk):
        b = min(chunk, draws - start)
        z = rng.standard_normal((b, k))[:, :, None] / np.sqrt(n_k)[None, :, None]   # (B, k, 1)
        x = rng.chisquare(n - k, b)[:, None]                                        # (B, 1)
        noise = z * sigma[None, None, :]
        drawn = m[None] + noise
        eta, omega = _channel_means_of_eta_omega(n_k, drawn, sigma[None, :] ** 2 * x, n - k)
        out["eta"].append(eta)
        out["omega"].append(omega)
        out["spec"].append(_stacked_specificity(drawn, n_k))
        out["null"].append(_stacked_specificity(grand[None, None, :] + noise, n_k))
    return ClassDraws(*(np.concatenate(out[key]) for key in ("eta", "omega", "spec", "null")))


def cosine_similarity_matrix(vectors: np.ndarray) -> np.ndarray:
    """Cosine similarity between rows (classes x features)."""
    v = np.asarray(vectors, dtype=np.float64)
    norm = np.linalg.norm(v, axis=1, keepdims=True)
    v = v / np.where(norm == 0, 1, norm)
    return v @ v.T


# ---------------------------------------------------------------- rank correlation


@dataclass(frozen=True)
class RankCorrelation:
    """Spearman's rank correlation rho of n paired values, with its two-sided p-value: exact
    (every permutation of one variable's ranks) for n <= ``EXACT_SPEARMAN``, else scipy's t
    approximation; ``exact`` says which. nan when n < 3 or a variable is constant."""

    n: int
    rho: float
    p: float
    exact: bool


#: Up to this many pairs the Spearman p-value is exact (9! = 362,880 permutations).
EXACT_SPEARMAN = 9


def _ranks(x: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(x)


def spearman(x, y) -> RankCorrelation:
    """Spearman's rho of x and y (ties get average ranks) and its two-sided p-value."""
    from itertools import permutations

    from scipy.stats import spearmanr

    a, b = np.asarray(x, dtype=np.float64).ravel(), np.asarray(y, dtype=np.float64).ravel()
    n = a.size
    if n < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return RankCorrelation(n, float("nan"), float("nan"), n <= EXACT_SPEARMAN)
    ra, rb = _ranks(a) - (n + 1) / 2, _ranks(b) - (n + 1) / 2
    scale = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    rho = float((ra * rb).sum() / scale)
    if n > EXACT_SPEARMAN:
        result = spearmanr(a, b)
        return RankCorrelation(n, rho, float(result.pvalue), False)
    every = np.array(list(permutations(ra)))                                   # (n!, n)
    null = every @ rb / scale
    p = float(np.mean(np.abs(null) >= abs(rho) - 1e-12))
    return RankCorrelation(n, rho, p, True)


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
                for t, q in zip(tests, adjusted, strict=True)]
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
