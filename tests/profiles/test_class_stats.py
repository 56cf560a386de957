"""Class statistics of profiles: the paper's default blocks and channels, labels to classes."""
from __future__ import annotations

import numpy as np
import pytest

from attnviz.profiles.class_stats import labelled_classes, paper_default_blocks, sampled_channels
from attnviz.errors import AttnvizError


def test_paper_default_blocks_for_se_resnet50():
    from attnviz.models.zoo import describe_zoo  # noqa: F401  (keeps timm's registry warm)
    import timm
    import torch

    from attnviz.gates import discover_gates

    with torch.device("meta"):
        gates = discover_gates(timm.create_model("seresnet50", pretrained=False))
    assert paper_default_blocks(gates) == ["SE_2_3", "SE_3_4", "SE_4_6", "SE_5_1", "SE_5_2", "SE_5_3"]


def test_sampled_channels_are_fixed_and_uniform():
    idx = sampled_channels(2048)
    assert len(idx) == 50 and idx[0] == 0 and idx[-1] == 2047
    assert np.ptp(np.diff(idx)) <= 1
    np.testing.assert_array_equal(sampled_channels(2048), idx)
    np.testing.assert_array_equal(sampled_channels(32), np.arange(32))


def test_labelled_classes():
    assert labelled_classes(["tench", "church", "tench "]) == ([1, 0, 1], ["church", "tench"])
    with pytest.raises(AttnvizError, match="image 2 has no class label"):
        labelled_classes(["tench", " "])


# ---------------------------------------------------------------- class dependence, from definitions
#
# Every reference below is written again from its definition on raw per-image values (or taken
# from scipy), never from attnviz's own output; every profile has UNEQUAL class counts, so that a
# statistic that forgets the count weighting fails.

from itertools import permutations  # noqa: E402

import torch  # noqa: E402
from scipy.stats import f_oneway, spearmanr  # noqa: E402

from attnviz.analysis import claims  # noqa: E402
from attnviz.profiles.class_stats import (MIN_IMAGES_PER_CLASS, anova, class_dependence,  # noqa: E402
                                 mean_attention_difference, specificity)
from attnviz.gates import Gate, kind_named  # noqa: E402
from attnviz.profiles.builder import ProfileAccumulator  # noqa: E402
from attnviz.analysis.statistics import anova_from_values, class_draws, class_specificity, spearman  # noqa: E402

COUNTS = (5, 17, 40, 11)                                    # unequal on purpose


def _profile(values: dict[str, np.ndarray], labels: np.ndarray, batches: int = 3):
    """A Profile made as attnviz makes one (the streaming accumulator, several batches)."""
    gates = [Gate(name, name.lower(), name.lower() + ".s", kind_named("sk" if v.shape[1] == 2 else "se"),
                  "sk" if v.shape[1] == 2 else "se", v.shape[2], v.shape[1], stage=2 + i // 2, block=1 + i % 2,
                  index=i)
             for i, (name, v) in enumerate(values.items())]
    acc = ProfileAccumulator(gates, len(COUNTS))
    order = np.random.default_rng(1).permutation(len(labels))           # classes mixed across batches
    for part in np.array_split(order, batches):
        acc.update(0, torch.tensor(labels[part]), {k: torch.tensor(v[part]) for k, v in values.items()})
    return acc.to_profile("test", [f"c{k}" for k in range(len(COUNTS))], [1.0])


def _labels(times: int = 1) -> np.ndarray:
    return np.repeat(np.arange(len(COUNTS)), times * np.array(COUNTS))


def _reference_eta_omega(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """eta^2 and omega^2 per channel, written from the definitions on raw values x (N, C)."""
    grand = x.mean(axis=0)
    sst = ((x - grand) ** 2).sum(axis=0)
    ssb = sum((y == k).sum() * (x[y == k].mean(axis=0) - grand) ** 2 for k in np.unique(y))
    k, n = len(np.unique(y)), len(y)
    msw = (sst - ssb) / (n - k)
    return ssb / sst, (ssb - (k - 1) * msw) / (sst + msw)


def _reference_specificity(x: np.ndarray, y: np.ndarray) -> float:
    """Class specificity from its definition: class means weighted by their image counts."""
    classes = np.unique(y)
    w = np.array([(y == k).mean() for k in classes])
    m = np.array([x[y == k].mean(axis=0) for k in classes])             # (k, C)
    mu = (w[:, None] * m).sum(axis=0)
    g = mu.mean()
    return float(sum(w[i] * ((m[i] - mu) ** 2).sum() for i in range(len(w)))
                 / sum(w[i] * ((m[i] - g) ** 2).sum() for i in range(len(w))))


def test_anova_from_moments_equals_scipy_f_oneway_with_unequal_classes():
    rng = np.random.default_rng(3)
    y = _labels()
    x = rng.normal(size=(len(y), 6)) + 0.4 * y[:, None] * rng.random(6)
    result = anova_from_values(x, y)
    for c in range(6):
        reference = f_oneway(*[x[y == k, c] for k in range(len(COUNTS))])
        assert result.f[c] == pytest.approx(reference.statistic, rel=1e-10)
        assert result.p[c] == pytest.approx(reference.pvalue, rel=1e-8, abs=1e-300)
    eta, omega = _reference_eta_omega(x, y)
    np.testing.assert_allclose(result.eta_squared, eta, rtol=1e-12)
    np.testing.assert_allclose(result.omega_squared, omega, rtol=1e-12)
    assert result.null_eta_squared == pytest.approx((len(COUNTS) - 1) / (len(y) - 1))


def _two_profiles():
    """(profile, raw values, labels) where the classes differ only within images, and where they
    differ strongly; both SE-like gates with 8 channels, the same unequal class counts (20 x COUNTS,
    so that the class means are precise while single images vary)."""
    rng = np.random.default_rng(7)
    y = _labels(20)
    k = len(COUNTS)
    # 1. Class means differ a little (0.02 between classes) around a flat channel profile, while
    #    single images vary a lot (sd 0.2): high specificity, eta^2 near 0.
    offsets = np.array([[0.02 * ((i + c) % k - 1.5) for c in range(8)] for i in range(k)])
    within = 0.5 + offsets[y] + rng.normal(0, 0.2, (len(y), 8))
    # 2. Classes far apart (0.3 between classes) with little noise (sd 0.01): eta^2 near 1.
    strong = 0.5 + 10 * offsets[y] + rng.normal(0, 0.01, (len(y), 8))
    values = {"SE_2_1": within[:, None, :].astype(np.float64), "SE_2_2": strong[:, None, :].astype(np.float64)}
    return _profile(values, y), values, y


def test_within_versus_between_class_differences():
    profile, values, y = _two_profiles()
    within, strong = (class_dependence(profile, g) for g in ("SE_2_1", "SE_2_2"))
    for dep, name in ((within, "SE_2_1"), (strong, "SE_2_2")):
        eta, omega = _reference_eta_omega(values[name][:, 0], y)
        assert dep.eta_squared == pytest.approx(eta.mean(), rel=1e-9)
        assert dep.omega_squared == pytest.approx(omega.mean(), rel=1e-9)
        assert dep.specificity == pytest.approx(_reference_specificity(values[name][:, 0], y), rel=1e-9)
        ps = [f_oneway(*[values[name][y == k, 0, c] for k in range(len(COUNTS))]).pvalue for c in range(8)]
        assert dep.p == pytest.approx(min(1.0, 8 * min(ps)), rel=1e-6, abs=1e-300)
        assert dep.images == 20 * sum(COUNTS) and dep.min_per_class == 20 * min(COUNTS)
        assert dep.eta_squared_null == pytest.approx((len(COUNTS) - 1) / (20 * sum(COUNTS) - 1))
    assert within.specificity > 0.8 and within.eta_squared < 0.05      # class-specific means, class-blind images
    assert strong.eta_squared > 0.99 and strong.specificity > 100 * strong.specificity_null_q95
    assert strong.eta_squared_interval[0] > strong.eta_squared_null_q95
    assert within.eta_squared_interval[0] <= within.eta_squared <= within.eta_squared_interval[1]
    assert within.specificity > within.specificity_null_q95                # the class means are not noise


def test_eta_squared_null_against_label_permutations():
    """The F-based noise floor against a label-permutation null of the same raw values: the mean of
    eta^2 over permutations is (k - 1)/(n - 1), and the Beta 95th percentile matches the
    permutation percentile of one channel."""
    profile, values, y = _two_profiles()
    x = values["SE_2_1"][:, 0]
    rng = np.random.default_rng(11)
    perms = np.array([_reference_eta_omega(x, rng.permutation(y))[0] for _ in range(3000)])      # (P, C)
    dep = class_dependence(profile, "SE_2_1")
    assert perms.mean() == pytest.approx(dep.eta_squared_null, rel=0.05)
    assert np.quantile(perms[:, 0], 0.95) == pytest.approx(dep.eta_squared_null_q95, rel=0.15)
    # The block's mean over channels spreads less than one channel: the stated floor is not too low.
    assert np.quantile(perms.mean(axis=1), 0.95) <= dep.eta_squared_null_q95 * 1.05


def test_specificity_null_against_label_permutations():
    """Class specificity's noise floor (parametric, channels drawn as perfectly dependent) is not
    below a label-permutation null of the raw values, and close to it when the channels do move
    together."""
    rng = np.random.default_rng(5)
    y = _labels()
    profile_rank = 0.5 + 0.1 * np.linspace(-1, 1, 8)
    for shared in (False, True):
        noise = rng.normal(0, 0.1, (len(y), 1 if shared else 8))
        x = profile_rank + noise + (rng.normal(0, 0.01, (len(y), 8)) if shared else 0)
        profile = _profile({"SE_2_1": x[:, None, :]}, y)
        dep = class_dependence(profile, "SE_2_1")
        perm = np.array([_reference_specificity(x, rng.permutation(y)) for _ in range(2000)])
        assert np.quantile(perm, 0.95) <= dep.specificity_null_q95 * 1.1
        if shared:
            assert np.quantile(perm, 0.95) == pytest.approx(dep.specificity_null_q95, rel=0.3)


@pytest.mark.parametrize("counts", [(12, 30, 20), (10, 14, 11)])
def test_bootstrap_interval_covers_the_population_value(counts):
    """Repeated samples from a known population (normal values, channels that move together, unequal
    classes): the 95 % interval of eta^2 holds the population's eta^2 (written from its definition:
    between-class variance over between plus within) in at least 88 % of 150 samples."""
    from attnviz.profiles.class_stats import _interval

    rng = np.random.default_rng(2)
    counts = np.array(counts)
    y = np.repeat(np.arange(3), counts)
    shift = np.array([[0.0, 0.1, 0.2, 0.0], [0.1, 0.0, 0.1, 0.3], [0.2, 0.2, 0.0, 0.1]])
    scale = np.array([1.0, 0.9, 1.1, 1.0])
    w = counts / counts.sum()
    between = (w[:, None] * (shift - (w[:, None] * shift).sum(axis=0)) ** 2).sum(axis=0)
    truth = float(np.mean(between / (between + (0.2 * scale) ** 2 + 0.02 ** 2)))
    hits = 0
    for _ in range(150):
        x = shift[y] + rng.normal(0, 0.2, (len(y), 1)) * scale + rng.normal(0, 0.02, (len(y), 4))
        means = np.array([x[y == k].mean(axis=0) for k in range(3)])
        m2 = np.array([((x[y == k] - means[k]) ** 2).sum(axis=0) for k in range(3)])
        estimate = float(np.mean(_reference_eta_omega(x, y)[0]))
        draws = class_draws(counts, means, m2, draws=400, seed=int(rng.integers(1 << 30)))
        low, high = _interval(estimate, draws.eta_squared)
        hits += low <= truth <= high
    assert hits / 150 >= 0.88


def test_specificity_and_overall_means_weight_classes_by_their_images():
    profile, values, y = _two_profiles()
    x = values["SE_2_2"][:, 0]
    y = np.asarray(y)
    everything = list(range(len(COUNTS)))
    assert specificity(profile, "SE_2_2", everything) == pytest.approx(_reference_specificity(x, y), rel=1e-10)
    np.testing.assert_allclose(profile.overall_mean("SE_2_2")[0], x.mean(axis=0), rtol=1e-12)
    chosen = [1, 3]
    mask = np.isin(y, chosen)
    np.testing.assert_allclose(profile.overall_mean("SE_2_2", classes=chosen)[0], x[mask].mean(axis=0), rtol=1e-12)
    assert specificity(profile, "SE_2_2", chosen) == pytest.approx(_reference_specificity(x[mask], y[mask]), rel=1e-10)
    # Unweighted class means would give another number here: the test can tell them apart.
    m = np.array([x[y == k].mean(axis=0) for k in everything])
    assert abs(class_specificity(m) - _reference_specificity(x, y)) > 1e-3


def test_mean_attention_difference_counts_every_image_once():
    rng = np.random.default_rng(4)
    y = _labels()
    a = rng.random((len(y), 5)) * (1 + y[:, None]) / 5
    values = {"SK_2_1": np.stack([a, 1 - a], axis=1)}
    profile = _profile(values, y)
    assert mean_attention_difference(profile, "SK_2_1") == pytest.approx(((1 - a) - a).mean(), rel=1e-12)
    mask = np.isin(y, [0, 2])
    assert mean_attention_difference(profile, "SK_2_1", classes=[0, 2]) == pytest.approx(
        ((1 - a) - a)[mask].mean(), rel=1e-12)
    # The compared path of an SK gate is b: eta^2 is that of b, not of a (equal here since a + b = 1,
    # so check the class means that enter it instead).
    dep = anova(profile, "SK_2_1", list(range(len(COUNTS))))
    eta, _ = _reference_eta_omega(1 - a, y)
    np.testing.assert_allclose(dep.eta_squared, eta, rtol=1e-9)


def test_too_few_images_per_class_give_no_verdict():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(len(COUNTS)), 3)
    global_counts = COUNTS
    x = rng.normal(size=(len(y), 1, 6)) + y[:, None, None]
    gates = [Gate("SE_2_1", "a", "a.s", kind_named("se"), "se", 6, 1, stage=2, block=1)]
    acc = ProfileAccumulator(gates, len(global_counts))
    acc.update(0, torch.tensor(y), {"SE_2_1": torch.tensor(x)})
    dep = class_dependence(acc.to_profile("t", list("abcd"), [1.0]), "SE_2_1")
    assert dep.min_per_class == 3 < MIN_IMAGES_PER_CLASS and not dep.enough_images
    assert claims.class_verdict(dep) == "too_few"


def test_class_verdicts_follow_the_stated_criterion():
    profile, _, _ = _two_profiles()
    assert claims.class_verdict(class_dependence(profile, "SE_2_2")) == "dependent"
    within = class_dependence(profile, "SE_2_1")
    assert within.omega_squared_interval[1] < claims.SMALL_EFFECT
    assert claims.class_verdict(within) == "agnostic"


@pytest.mark.parametrize("y", [[0.1, 0.3, 0.2, 0.5, 0.4, 0.9], [3, 1, 2, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9, 0]])
def test_spearman_exact_against_every_permutation(y):
    x = np.arange(len(y))
    test = spearman(x, y)
    assert test.rho == pytest.approx(spearmanr(x, y).statistic, abs=1e-12)
    if len(y) <= 9:
        rhos = np.array([spearmanr(x, p).statistic for p in permutations(y)])
        assert test.exact and test.p == pytest.approx(np.mean(np.abs(rhos) >= abs(test.rho) - 1e-12))
    else:
        assert not test.exact and test.p == pytest.approx(spearmanr(x, y).pvalue)


def test_depth_trend_verdicts():
    assert claims.depth_trend(list("abcdef"), [1, 2, 3, 4, 5, 6]).verdict == "rises"
    assert claims.depth_trend(list("abcdef"), [6, 5, 4, 3, 2, 1]).verdict == "falls"
    assert claims.depth_trend(list("abcdef"), [1, 3, 2, 4, 6, 5]).test.p == pytest.approx(
        np.mean([abs(spearmanr(range(6), p).statistic) >= spearmanr(range(6), [1, 3, 2, 4, 6, 5]).statistic - 1e-12
                 for p in permutations([1, 3, 2, 4, 6, 5])]))
    assert claims.depth_trend(list("ab"), [1, 2]).verdict == "too_few"
    gates = [Gate(n, "", "", kind_named("se"), "se", 8, 1, stage=s)
             for n, s in (("A", 2), ("B", 3), ("C", 4), ("D", 5), ("E", 5))]
    assert claims.blocks_before_last_stage(gates) == ["A", "B", "C"]
    assert claims.last_stage_blocks(gates) == ["D", "E"]


def test_saturation_is_the_share_of_values_at_least_0_9():
    rng = np.random.default_rng(8)
    y = _labels()
    x = np.where(rng.random((len(y), 1, 10)) < 0.55, 0.95, 0.5) + rng.normal(0, 0.01, (len(y), 1, 10))
    x = np.clip(x, 0, 1)
    profile = _profile({"SE_5_1": x}, y)
    result = claims.saturation(profile, "SE_5_1")
    assert result.share_high == pytest.approx((x >= 0.9).mean())
    assert result.mean == pytest.approx(x.mean())
    assert result.saturated == ((x >= 0.9).mean() >= 0.5)


def test_cli_compare_page_and_card_show_the_same_eta_squared(capsys):
    """`attnviz class-stats --json`, the Compare page's chart and the model card give one number per
    gate, and it is eta^2 written again from the shipped profile's class moments."""
    import json

    from attnviz.cli import main
    from attnviz.profiles.profile import bundled_profile_path, load_profile
    from attnviz.views import compare
    from attnviz.models.zoo import bundled_dir

    path = bundled_profile_path("se_resnet18_imagenette")
    assert main(["class-stats", str(path), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    profile = load_profile(path)
    n = profile.counts().astype(float)
    for row in printed["gates"]:
        m, m2 = profile.mean(row["gate"])[:, 0], profile.m2[row["gate"]][0][:, 0]
        grand = (n[:, None] * m).sum(axis=0) / n.sum()
        ssb = (n[:, None] * (m - grand) ** 2).sum(axis=0)
        assert row["eta_squared"] == pytest.approx(float(np.mean(ssb / (ssb + m2.sum(axis=0)))), rel=1e-9)
        assert row["eta_squared_null"] == pytest.approx(9 / (n.sum() - 1))
        low, high = row["eta_squared_interval"]
        assert low < row["eta_squared"] < high
    charts = compare.compare_charts(profile, compare.CompareOptions(blocks=["SE_5_2"], classes=list(range(10))))
    bars = next(c for c in charts if c.key == "class_dependence").figure.data[0]
    np.testing.assert_allclose(bars.y, [r["eta_squared"] for r in printed["gates"]], rtol=1e-12)
    card = json.loads((bundled_dir() / "se_resnet18_imagenette.json").read_text())["analysis"]["class_dependence"]
    for row in printed["gates"]:
        assert card[row["gate"]]["eta_squared"] == pytest.approx(row["eta_squared"], rel=1e-12)
        assert card[row["gate"]]["eta_squared_interval"] == pytest.approx(row["eta_squared_interval"], rel=1e-12)
    assert printed["depth_trend"]["eta_squared"]["n"] == 6 and printed["depth_trend"]["eta_squared"]["verdict"] == "rises"


def test_cli_class_stats_names_an_unknown_class(capsys):
    from attnviz.cli import main
    from attnviz.profiles.profile import bundled_profile_path

    assert main(["class-stats", str(bundled_profile_path("se_resnet18_imagenette")), "--classes", "tench,zebra"]) == 2
    assert "no class 'zebra'" in capsys.readouterr().err


def test_holm_adjust_against_its_definition():
    from attnviz.analysis.statistics import holm_adjust

    p = np.array([0.01, 0.04, 0.03, 0.005, 0.5])
    order = np.argsort(p)
    m = len(p)
    reference = np.empty(m)
    for rank, i in enumerate(order):      # max over j <= rank of min(1, (m - j) p_(j))
        reference[i] = max(min(1.0, (m - j) * p[order[j]]) for j in range(rank + 1))
    np.testing.assert_allclose(holm_adjust(p), reference)


def test_draws_intervals_and_significant_channels_from_their_definitions():
    """The replicates centre on the statistics they resample, the interval is the basic bootstrap
    interval of those replicates, and the count of significant channels is Holm's on scipy's F-tests."""
    from attnviz.profiles.class_stats import DRAWS, LEVEL
    from attnviz.analysis.statistics import holm_adjust

    profile, values, y = _two_profiles()
    x = values["SE_2_1"][:, 0]
    n_k = np.bincount(y)
    means = np.array([x[y == k].mean(axis=0) for k in range(len(COUNTS))])
    m2 = np.array([((x[y == k] - means[k]) ** 2).sum(axis=0) for k in range(len(COUNTS))])
    eta, omega = _reference_eta_omega(x, y)
    draws = class_draws(n_k, means, m2, draws=DRAWS, seed=0)
    assert abs(np.mean(draws.omega_squared) - omega.mean()) < 0.01
    assert abs(np.median(draws.eta_squared) - eta.mean()) < 0.01 + (len(COUNTS) - 1) / (len(y) - 1)
    assert abs(np.mean(draws.specificity) - _reference_specificity(x, y)) < 0.1
    dep = class_dependence(profile, "SE_2_1")
    tail = 100 * (1 - LEVEL) / 2
    for estimate, replicates, interval in ((dep.eta_squared, draws.eta_squared, dep.eta_squared_interval),
                                           (dep.omega_squared, draws.omega_squared, dep.omega_squared_interval),
                                           (dep.specificity, draws.specificity, dep.specificity_interval)):
        q_low, q_high = np.percentile(replicates, [tail, 100 - tail])
        assert interval == pytest.approx((max(2 * estimate - q_high, -1.0), min(2 * estimate - q_low, 1.0)), rel=1e-9)
    ps = np.array([f_oneway(*[x[y == k, c] for k in range(len(COUNTS))]).pvalue for c in range(8)])
    assert dep.channels_significant == int((holm_adjust(ps) < 0.05).sum())
    assert spearman(np.arange(9), [3, 1, 2, 5, 4, 7, 6, 9, 8]).exact
    assert not spearman(np.arange(10), np.arange(10)[::-1]).exact
