"""Independent references for the numbers the pages, the cards, the CLI and the notebooks state.

Each test writes its statistic or transform again from its definition (numpy, scipy, PIL, or a
hand computation in the comments), never from attnviz's own output; where classes are involved
their image counts are UNEQUAL, so that a formula that forgets the count weighting fails. Each
test was checked to turn red on a deliberately wrong formula (see the commit that added it).
"""
from __future__ import annotations

from math import comb

import numpy as np
import pytest
import timm
import torch
from PIL import Image, ImageFilter
from scipy import stats as sp

from attnviz.profiles.class_stats import similarity
from attnviz.gates import Gate, discover_gates, kind_named
from attnviz.profiles.builder import ProfileAccumulator
from attnviz.analysis.scale import zoom
from attnviz.analysis.statistics import class_specificity, holm_adjust, mcnemar_exact, paired_t_from_moments, paired_t_test

COUNTS = (3, 11, 26, 7)                                               # unequal on purpose


# ---------------------------------------------------------------- class specificity


def test_class_specificity_by_hand_with_unequal_counts():
    # Class means [[1, 3], [3, 1]] with 1 and 3 images: w = (1/4, 3/4), channel means
    # mu = (2.5, 1.5), grand mean g = 2; between = 2 * (0.25 * 1.5^2 + 0.75 * 0.5^2) = 1.5,
    # total = 2 * (0.25 * 1 + 0.75 * 1) = 2: specificity 0.75 (1.0 with equal weights).
    assert class_specificity(np.array([[1.0, 3.0], [3.0, 1.0]]), np.array([1, 3])) == pytest.approx(0.75)
    assert class_specificity(np.array([[1.0, 3.0], [3.0, 1.0]])) == pytest.approx(1.0)
    # [[0, 2], [2, 4]] with 3 and 1 images: mu = (0.5, 2.5), g = 1.5, between = 1.5; the
    # denominator adds the channels' own spread (0.5 - 1.5)^2 + (2.5 - 1.5)^2 = 2: 1.5 / 3.5.
    assert class_specificity(np.array([[0.0, 2.0], [2.0, 4.0]]), np.array([3, 1])) == pytest.approx(3 / 7)
    # every class alike: 0
    assert class_specificity(np.array([[0.2, 0.7], [0.2, 0.7], [0.2, 0.7]]), np.array([1, 5, 2])) == 0.0
    # one value everywhere: nothing varies, specificity 0 (not 0 / 0)
    assert class_specificity(np.full((3, 4), 0.5), np.array([2, 1, 7])) == 0.0


def test_class_specificity_against_its_definition_on_images():
    """From single images: the count-weighted spread of the class means around each channel's
    mean over all images, over their spread around the mean of those channel means."""
    rng = np.random.default_rng(7)
    y = np.repeat(np.arange(len(COUNTS)), COUNTS)
    x = rng.random((len(y), 9)) + 0.3 * y[:, None] * rng.random(9)
    means = np.array([x[y == k].mean(axis=0) for k in range(len(COUNTS))])
    mu = x.mean(axis=0)                                       # every image once
    g = mu.mean()
    between = sum(((x[y == k].mean(axis=0) - mu) ** 2).sum() * (y == k).sum() for k in range(len(COUNTS)))
    total = sum(((x[y == k].mean(axis=0) - g) ** 2).sum() * (y == k).sum() for k in range(len(COUNTS)))
    assert class_specificity(means, np.bincount(y)) == pytest.approx(between / total, rel=1e-12)


# ---------------------------------------------------------------- similarity of classes


def _sk_profile(a: np.ndarray, b: np.ndarray, y: np.ndarray):
    """A profile of one SK gate whose paths a and b are independent (the accumulator does not
    need a + b = 1), made as attnviz makes one: streamed in three batches, classes mixed."""
    gate = Gate("SK_2_1", "sk_2_1", "sk_2_1.attn", kind_named("sk"), "sk", a.shape[1], 2, stage=2, block=1, index=0)
    acc = ProfileAccumulator([gate], len(COUNTS))
    order = np.random.default_rng(3).permutation(len(y))
    values = np.stack([a, b], axis=1).astype(np.float32)
    for part in np.array_split(order, 3):
        acc.update(0, torch.tensor(y[part]), {"SK_2_1": torch.tensor(values[part])})
    return acc.to_profile("test", [f"c{k}" for k in range(len(COUNTS))], [1.0])


def _cosine(v: np.ndarray) -> np.ndarray:
    return np.array([[float(p @ q / np.sqrt((p @ p) * (q @ q))) for q in v] for p in v])


def test_similarity_is_the_cosine_of_class_means_of_b_centred_on_every_image():
    rng = np.random.default_rng(11)
    y = np.repeat(np.arange(len(COUNTS)), COUNTS)
    a = rng.random((len(y), 6))
    b = rng.random((len(y), 6)) * (1 + y[:, None]) / 4 + 0.2 * rng.random(6)
    profile = _sk_profile(a, b, y)
    chosen = [0, 2, 3]
    means = np.array([b[y == k].mean(axis=0).astype(np.float64) for k in chosen])
    np.testing.assert_allclose(similarity(profile, "SK_2_1", chosen), _cosine(means), rtol=1e-5)
    # centred: the all-class mean subtracted is that of every image of every class, each counted once
    centred = means - b.astype(np.float64).mean(axis=0)
    np.testing.assert_allclose(similarity(profile, "SK_2_1", chosen, centred=True), _cosine(centred),
                               rtol=1e-4, atol=1e-6)
    # the unweighted mean of the class means would centre elsewhere: the test tells them apart
    unweighted = means - np.array([b[y == k].mean(axis=0) for k in range(len(COUNTS))]).mean(axis=0)
    assert np.abs(_cosine(unweighted) - _cosine(centred)).max() > 1e-3


# ---------------------------------------------------------------- zoom (SKNet's enlarged objects)


def _ramp(width: int, height: int, axis: int) -> Image.Image:
    """A float image whose value is the pixel's x (axis 0) or y (axis 1) index."""
    x, yy = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return Image.fromarray(x if axis == 0 else yy, mode="F")


@pytest.mark.parametrize("factor", [1.0, 1.5, 2.0])
@pytest.mark.parametrize("size", [(120, 80), (121, 81)])
def test_zoom_is_the_centre_crop_resized_back(factor, size):
    """By hand: keeping the central 1/factor of each side and stretching it back to the full size
    puts output pixel x' (centre x' + 0.5) over input position left + (x' + 0.5) / factor - 0.5,
    with left = (W - W / factor) / 2. Bicubic resampling reproduces a linear ramp exactly, so the
    zoomed ramp must be that position (away from the border, where the kernel is cut)."""
    w, h = size
    for axis, n in ((0, w), (1, h)):
        out = np.asarray(zoom(_ramp(w, h, axis), factor), dtype=np.float64)
        assert out.shape == (h, w)
        left = (n - n / factor) / 2
        expected = left + (np.arange(n) + 0.5) / factor - 0.5
        line = out[h // 2, :] if axis == 0 else out[:, w // 2]
        inner = slice(3, n - 3)
        np.testing.assert_allclose(line[inner], expected[inner], atol=2e-3)


def test_zoom_of_a_photo_equals_pil_crop_then_resize():
    """For crops on whole pixels (120 x 80 at 2.0: box 30, 20, 90, 60) PIL's crop then bicubic
    resize gives the same interior as attnviz's zoom; the colours are the photo's."""
    rng = np.random.default_rng(0)
    photo = Image.fromarray(rng.integers(0, 256, (80, 120, 3), dtype=np.uint8)).filter(ImageFilter.GaussianBlur(2))
    ours = np.asarray(zoom(photo, 2.0)).astype(int)
    theirs = np.asarray(photo.crop((30, 20, 90, 60)).resize((120, 80), Image.Resampling.BICUBIC)).astype(int)
    assert ours.shape == theirs.shape == (80, 120, 3)
    assert np.abs(ours[6:-6, 6:-6] - theirs[6:-6, 6:-6]).max() <= 1


# ---------------------------------------------------------------- stage/block naming


def _paper_names(prefix: str, blocks_per_stage: tuple[int, ...], first_stage: int = 2) -> list[str]:
    """SENet's naming: stage s (conv2_x ... conv5_x, so ResNet's layer1 is stage 2), block b from 1."""
    return [f"{prefix}_{s}_{b}" for s, n in enumerate(blocks_per_stage, start=first_stage) for b in range(1, n + 1)]


@pytest.mark.parametrize("name, prefix, blocks, module", [
    ("seresnet50", "SE", (3, 4, 6, 3), "layer{layer}.{block}.se"),
    ("legacy_seresnet50", "SE", (3, 4, 6, 3), "layer{layer}.{block}.se_module"),
    ("legacy_senet154", "SE", (3, 8, 36, 3), "layer{layer}.{block}.se_module"),
    ("skresnet34", "SK", (3, 4, 6, 3), "layer{layer}.{block}.conv1.attn"),
    ("ecaresnet50d", "ECA", (3, 4, 6, 3), "layer{layer}.{block}.se"),
    ("resnest50d", "SPLAT", (3, 4, 6, 3), "layer{layer}.{block}.conv2"),
])
def test_stage_block_names_of_resnet_layouts(name, prefix, blocks, module):
    with torch.device("meta"):
        gates = discover_gates(timm.create_model(name))
    expected = _paper_names(prefix, blocks)
    assert [g.name for g in gates] == expected                      # SE_2_1 ... SE_2_3, ..., SE_5_3
    assert [(g.stage, g.block) for g in gates] == [tuple(map(int, n.split("_")[1:])) for n in expected]
    assert [g.module for g in gates] == [module.format(layer=s - 1, block=b - 1)
                                         for s, n in enumerate(blocks, start=2) for b in range(1, n + 1)]


# ---------------------------------------------------------------- paired t, Holm, McNemar


def test_paired_t_equals_scipy_ttest_rel_and_the_hand_formula():
    rng = np.random.default_rng(5)
    before = rng.normal(0.1, 0.3, 23)
    after = before + rng.normal(0.08, 0.2, 23)
    test = paired_t_test(after - before)
    reference = sp.ttest_rel(after, before)
    assert test.t == pytest.approx(reference.statistic, rel=1e-10)
    assert test.p == pytest.approx(reference.pvalue, rel=1e-10)
    d = after - before
    sd = np.sqrt(((d - d.mean()) ** 2).sum() / (len(d) - 1))
    assert (test.n, test.mean, test.sd, test.se) == pytest.approx((23, d.mean(), sd, sd / np.sqrt(23)), rel=1e-10)
    # from the stored moments (count, sum, sum of squares), as a profile keeps them
    moments = paired_t_from_moments(len(d), float(d.sum()), float((d * d).sum()))
    assert moments.t == pytest.approx(reference.statistic, rel=1e-8)
    assert moments.p == pytest.approx(reference.pvalue, rel=1e-8)
    # two pairs, the fewest with a test: t = mean / (sd / sqrt 2) with 1 degree of freedom
    two = paired_t_test([0.1, 0.4])
    assert (two.t, two.p) == pytest.approx(tuple(sp.ttest_rel([0.1, 0.4], [0.0, 0.0])), rel=1e-10)
    # every difference equal: p 0 (or 1 when they are all 0), as no spread can explain them
    assert paired_t_test([0.2, 0.2, 0.2]).p == 0.0 and paired_t_test([0.0, 0.0, 0.0]).p == 1.0
    # the other direction: the same p, t of the other sign
    flipped = paired_t_test(before - after)
    assert flipped.t == pytest.approx(-test.t) and flipped.p == pytest.approx(test.p)


def _holm_rejects(p: np.ndarray, alpha: float) -> np.ndarray:
    """Holm's step-down procedure as Holm (1979) states it: order the p-values, reject H_(1),
    H_(2), ... while p_(i) <= alpha / (m - i + 1), and stop at the first that is not."""
    order = np.argsort(p, kind="stable")
    reject = np.zeros(len(p), dtype=bool)
    for i, index in enumerate(order, start=1):
        if p[index] > alpha / (len(p) - i + 1):
            break
        reject[index] = True
    return reject


@pytest.mark.parametrize("seed", range(6))
def test_holm_adjusted_p_values_reject_as_the_step_down_procedure(seed):
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(0, 0.02, 3), rng.uniform(0, 1, 5)])
    rng.shuffle(p)
    adjusted = holm_adjust(p)
    for alpha in (0.01, 0.02, 0.05, 0.1, 0.2):
        np.testing.assert_array_equal(adjusted <= alpha, _holm_rejects(p, alpha))
    assert (adjusted >= p).all() and (adjusted <= 1).all()
    # a hand example: m = 3, p = (0.01, 0.02, 0.04): 3 * 0.01, 2 * 0.02, max(0.04, 1 * 0.04)
    np.testing.assert_allclose(holm_adjust([0.04, 0.01, 0.02]), [0.04, 0.03, 0.04])


def test_mcnemar_is_the_exact_binomial_test_of_the_discordant_pairs():
    rng = np.random.default_rng(2)
    before = rng.random(60) < 0.7
    after = before.copy()
    flips = rng.choice(60, 14, replace=False)
    after[flips] = ~after[flips]
    lost, gained = int((before & ~after).sum()), int((~before & after).sum())
    test = mcnemar_exact(before, after)
    assert (test.n, test.lost, test.gained) == (60, lost, gained)
    assert test.change == pytest.approx(after.mean() - before.mean())
    assert test.p == pytest.approx(sp.binomtest(lost, lost + gained, 0.5).pvalue, rel=1e-12)
    # by hand: twice the smaller tail of Binomial(lost + gained, 1/2), at most 1
    n = lost + gained
    tail = sum(comb(n, i) for i in range(min(lost, gained) + 1)) / 2 ** n
    assert test.p == pytest.approx(min(1.0, 2 * tail), rel=1e-12)
    # 1 lost, 6 gained: 2 * (1 + 7) / 128 = 0.125
    b = np.array([True] * 1 + [False] * 6 + [True] * 5)
    a = np.array([False] * 1 + [True] * 6 + [True] * 5)
    assert mcnemar_exact(b, a).p == pytest.approx(0.125) and mcnemar_exact(a, b).p == pytest.approx(0.125)
    assert mcnemar_exact(b, a).change == pytest.approx(5 / 12)
    # correctness given as 0/1 integers means the same; no prediction changed correctness: p = 1
    same = mcnemar_exact(b.astype(int).tolist(), a.astype(int).tolist())
    assert (same.lost, same.gained, same.p) == (1, 6, pytest.approx(0.125))
    assert mcnemar_exact(b, b).p == 1.0 and mcnemar_exact(b, b).change == 0.0


# ---------------------------------------------------------------- class dependence at its edges


def test_class_dependence_counts_the_classes_and_images_it_was_given():
    """Classes of 1, 5, 0 and 6 images: the empty class is left out, the single image counts; one
    class alone has nothing to compare (no p, no interval, no noise floor); the replicates are
    the ones asked for (draws, seed)."""
    from attnviz.profiles.class_stats import _interval, class_dependence
    from attnviz.analysis.statistics import class_draws

    rng = np.random.default_rng(8)
    y = np.repeat(np.arange(4), (1, 5, 0, 6))
    a, b = rng.random((len(y), 6)), rng.random((len(y), 6)) + 0.2 * y[:, None]
    profile = _sk_profile(a, b, y)
    for classes in (None, [0, 1, 2, 3]):
        dep = class_dependence(profile, "SK_2_1", classes, draws=50, seed=3)
        assert (dep.classes, dep.images, dep.min_per_class, dep.channels) == (3, 12, 1, 6)
    # eta squared of b written again over the 12 images
    grand = b.mean(axis=0)
    ssb = sum((y == k).sum() * (b[y == k].mean(axis=0) - grand) ** 2 for k in (0, 1, 3))
    assert dep.eta_squared == pytest.approx(float(np.mean(ssb / ((b - grand) ** 2).sum(axis=0))), rel=1e-5)
    n_k = np.array([1, 5, 6])
    m = np.array([b[y == k].mean(axis=0) for k in (0, 1, 3)])
    m2 = np.array([((b[y == k] - b[y == k].mean(axis=0)) ** 2).sum(axis=0) for k in (0, 1, 3)])
    draws = class_draws(n_k, m, m2, draws=50, seed=3)
    assert dep.specificity_interval == pytest.approx(_interval(dep.specificity, draws.specificity), rel=1e-4)
    assert dep.specificity_null == pytest.approx(float(np.mean(draws.specificity_null)), rel=1e-4)
    assert 0 <= dep.p <= 1 and dep.channels_significant <= 6
    alone = class_dependence(profile, "SK_2_1", [3], draws=50)
    assert (alone.classes, alone.images, alone.min_per_class, alone.channels) == (1, 6, 6, 6)
    assert alone.eta_squared == 0.0 and alone.specificity == 0.0 and alone.channels_significant == 0
    for value in (alone.p, alone.specificity_null, alone.specificity_null_q95, *alone.eta_squared_interval,
                  *alone.omega_squared_interval, *alone.specificity_interval):
        assert np.isnan(value)


# ---------------------------------------------------------------- Spearman's rank correlation


def _exact_spearman_p(x: np.ndarray, y: np.ndarray) -> float:
    """Two-sided p of rho = 1 - 6 sum d^2 / (n (n^2 - 1)) (no ties) over every permutation of y's ranks."""
    from itertools import permutations

    n = len(x)
    rx, ry = sp.rankdata(x), sp.rankdata(y)

    def rho(r):
        return 1 - 6 * float(((rx - np.asarray(r)) ** 2).sum()) / (n * (n * n - 1))

    observed = abs(rho(ry))
    hits = sum(abs(rho(p)) >= observed - 1e-9 for p in permutations(ry))
    return hits / float(np.prod(np.arange(1, n + 1)))


def test_spearman_is_exact_up_to_nine_pairs_and_scipys_beyond():
    from attnviz.analysis.statistics import EXACT_SPEARMAN, spearman

    assert EXACT_SPEARMAN == 9
    # four pairs in the same order: rho = 1, reached by 2 of the 4! = 24 permutations (1 and -1)
    r = spearman([1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 30.0, 40.0])
    assert (r.n, r.exact) == (4, True) and r.rho == pytest.approx(1.0) and r.p == pytest.approx(2 / 24)
    rng = np.random.default_rng(21)
    for n in (3, 5, 8, 9):
        x, y = rng.permutation(n).astype(float), rng.permutation(n).astype(float)
        r = spearman(x, y)
        assert r.exact and r.n == n
        assert r.rho == pytest.approx(sp.spearmanr(x, y).statistic, abs=1e-12)
        assert r.p == pytest.approx(_exact_spearman_p(x, y), abs=1e-12)
    for n in (10, 14):
        x, y = rng.random(n), rng.random(n) + 0.1 * np.arange(n)
        r = spearman(x, y)
        reference = sp.spearmanr(x, y)
        assert (r.n, r.exact) == (n, False)
        assert r.rho == pytest.approx(reference.statistic, abs=1e-12)
        assert r.p == pytest.approx(reference.pvalue, rel=1e-12)
    # ties get average ranks (scipy's rho), still exact at six pairs
    x, y = np.array([1.0, 2, 2, 3, 5, 4]), np.array([2.0, 1, 4, 3, 6, 6])
    assert spearman(x, y).rho == pytest.approx(sp.spearmanr(x, y).statistic, abs=1e-12)
    # nothing to rank: nan, and ``exact`` still says which test n pairs would get
    for x, y, exact in (([1.0, 2.0], [2.0, 1.0], True), ([1.0] * 5, [1.0, 2, 3, 4, 5], True),
                        (list(range(10)), [3.0] * 10, False), (list(range(12)), [1.0] * 12, False)):
        r = spearman(x, y)
        assert np.isnan(r.rho) and np.isnan(r.p) and r.exact is exact and r.n == len(x)
    assert not np.isnan(spearman([1.0, 2.0, 3.0], [1.0, 3.0, 2.0]).rho)


# ---------------------------------------------------------------- role-of-excitation data of a block


def test_block_class_means_samples_channels_and_sorts_them_by_every_images_mean():
    from attnviz.profiles.class_stats import block_class_means

    rng = np.random.default_rng(5)
    y = np.repeat(np.arange(len(COUNTS)), COUNTS)
    a, b = rng.random((len(y), 10)), rng.random((len(y), 10)) * np.linspace(0.2, 1.0, 10)[rng.permutation(10)]
    b[y == 3] += 0.6                                        # class 3, not chosen, moves the all-class mean
    profile = _sk_profile(a, b, y)
    chosen = [0, 2]
    overall = b.astype(np.float64).mean(axis=0)             # every image of every class once
    means = np.array([b[y == k].mean(axis=0) for k in chosen])
    stds = np.array([b[y == k].std(axis=0) for k in chosen])  # population std (ddof 0), as profiled
    plain = block_class_means(profile, "SK_2_1", chosen)
    np.testing.assert_array_equal(plain.channels, np.arange(10))
    np.testing.assert_allclose(plain.means, means, rtol=1e-5)
    np.testing.assert_allclose(plain.stds, stds, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(plain.overall, overall, rtol=1e-5)
    order = np.argsort(-overall)
    assert len(set(np.round(overall, 4))) == 10             # no ties: the order is the definition's
    ranked = block_class_means(profile, "SK_2_1", chosen, sort=True)
    np.testing.assert_array_equal(ranked.channels, order)
    np.testing.assert_allclose(ranked.means, means[:, order], rtol=1e-5)
    np.testing.assert_allclose(ranked.stds, stds[:, order], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ranked.overall, overall[order], rtol=1e-5)
    assert np.all(np.diff(ranked.overall) <= 0)
    # three of ten channels, uniformly: round(0, 4.5, 9) = 0, 4, 9 (round half to even)
    few = block_class_means(profile, "SK_2_1", chosen, n_channels=3)
    np.testing.assert_array_equal(few.channels, [0, 4, 9])
    np.testing.assert_allclose(few.means, means[:, [0, 4, 9]], rtol=1e-5)
    few_sorted = block_class_means(profile, "SK_2_1", chosen, n_channels=3, sort=True)
    np.testing.assert_array_equal(few_sorted.channels, np.array([0, 4, 9])[np.argsort(-overall[[0, 4, 9]])])


# ---------------------------------------------------------------- a sweep's path weights


def test_path_weights_are_the_mean_over_images_of_one_paths_values():
    from attnviz.errors import InvalidChoice
    from attnviz.analysis.inference import ImageAnalysis
    from attnviz.analysis.scale import ScaleSweep

    rng = np.random.default_rng(9)
    gate = Gate("SK_3_1", "sk_3_1", "sk_3_1.attn", kind_named("sk"), "sk", 4, 3, stage=3, block=1, index=0)
    values = {s: rng.random((5, 3, 4)).astype(np.float32) for s in (1.0, 2.0)}
    sweep = ScaleSweep([1.0, 2.0], [gate], {s: [ImageAnalysis(f"i{i}", np.full(3, 1 / 3), {"SK_3_1": v[i]})
                                                for i in range(5)] for s, v in values.items()})
    for scale, v in values.items():
        np.testing.assert_allclose(sweep.path_weights(scale, "SK_3_1"), v[:, 1].astype(np.float64).mean(axis=0),
                                   rtol=1e-12)
        for path in range(3):
            np.testing.assert_allclose(sweep.path_weights(scale, "SK_3_1", path),
                                       v[:, path].astype(np.float64).mean(axis=0), rtol=1e-12)
    for path in (-1, 3, 4):
        with pytest.raises(InvalidChoice):
            sweep.path_weights(1.0, "SK_3_1", path)


# ---------------------------------------------------------------- replicates of eta^2 and omega^2


def _eta_omega(n_k: np.ndarray, means: np.ndarray, ssw: np.ndarray) -> tuple[float, float]:
    """Mean over channels of eta^2 = SSB / SST and omega^2 = (SSB - (k - 1) MSW) / (SST + MSW),
    MSW = SSW / (n - k), from class sizes (k,), class means (k, C) and within sums of squares (C,);
    channels where nothing varies are left out."""
    k, n = len(n_k), n_k.sum()
    eta, omega = [], []
    for c in range(means.shape[1]):
        grand = float((n_k * means[:, c]).sum() / n)
        ssb = float((n_k * (means[:, c] - grand) ** 2).sum())
        sst, msw = ssb + float(ssw[c]), float(ssw[c]) / (n - k)
        if sst > 0:
            eta.append(ssb / sst)
        if sst + msw > 0:
            omega.append((ssb - (k - 1) * msw) / (sst + msw))
    return float(np.mean(eta)), float(np.mean(omega))


def test_channel_means_of_eta_omega_follow_the_definitions():
    from attnviz.analysis.statistics import _channel_means_of_eta_omega

    rng = np.random.default_rng(13)
    n_k = np.array([2.0, 5.0, 3.0])
    means = rng.random((4, 3, 5))
    ssw = rng.random((4, 5))
    means[1, :, 2], ssw[1, 2] = 0.4, 0.0                    # a channel with no variation in replicate 1
    eta, omega = _channel_means_of_eta_omega(n_k, means, ssw, int(n_k.sum()) - 3)
    for i in range(4):
        ref = _eta_omega(n_k, means[i], ssw[i])
        assert eta[i] == pytest.approx(ref[0], rel=1e-12) and omega[i] == pytest.approx(ref[1], rel=1e-12)
    # a class effect of zero: omega^2 = -(k - 1) MSW / (SSW + MSW), below zero
    flat = np.full((1, 3, 2), 0.3)
    eta, omega = _channel_means_of_eta_omega(n_k, flat, np.array([[1.4, 0.7]]), 7)
    assert eta[0] == 0.0 and omega[0] == pytest.approx(-2 * (1 / 7) / (1 + 1 / 7))


def test_class_draws_are_the_parametric_bootstrap_written_again():
    from attnviz.analysis.statistics import class_draws

    rng = np.random.default_rng(17)
    counts = np.array([4, 0, 9, 2])
    means, m2 = rng.random((4, 6)), rng.random((4, 6)) * counts[:, None]
    got = class_draws(counts, means, m2, draws=40, seed=6)
    n_k, m, ss = np.array([4.0, 9.0, 2.0]), means[[0, 2, 3]], m2[[0, 2, 3]]   # the empty class left out
    k, n = 3, 15
    draw = np.random.default_rng(6)
    z, x = draw.standard_normal((40, k)), draw.chisquare(n - k, 40)
    sigma = np.sqrt(ss.sum(axis=0) / (n - k))                 # pooled within-class sd per channel
    grand = (n_k[:, None] * m).sum(axis=0) / n
    for i in range(40):
        noise = (z[i] / np.sqrt(n_k))[:, None] * sigma[None, :]
        eta, omega = _eta_omega(n_k, m + noise, sigma ** 2 * x[i])
        assert got.eta_squared[i] == pytest.approx(eta, rel=1e-10)
        assert got.omega_squared[i] == pytest.approx(omega, rel=1e-10)
        assert got.specificity[i] == pytest.approx(class_specificity(m + noise, n_k), rel=1e-10)
        assert got.specificity_null[i] == pytest.approx(class_specificity(grand + noise, n_k), rel=1e-10)
    # guards: fewer than two classes with images, or no within-class degree of freedom (n <= k)
    assert class_draws([0, 5, 0], means[:3], m2[:3], draws=5) is None
    assert class_draws([1, 1, 1], means[:3], m2[:3], draws=5) is None
    assert class_draws([1, 2, 0], means[:3], m2[:3], draws=5).eta_squared.shape == (5,)   # n = k + 1
    assert class_draws([2, 0], means[:2], m2[:2], draws=5) is None


def test_class_dependence_of_no_class_of_two_classes_and_omegas_lower_clip():
    from attnviz.profiles.class_stats import _interval, class_dependence
    from attnviz.analysis.statistics import class_draws

    rng = np.random.default_rng(19)
    y = np.repeat(np.arange(4), (1, 1, 1, 2))
    # the three single images sit at class 3's mean: the class explains nothing, omega^2 near -3/2
    b = np.array([[0.5], [0.5], [0.5], [0.1], [0.9]]) + np.array([[0.0, 0.01, -0.02]]) + 0.003 * rng.random((5, 3))
    profile = _sk_profile(rng.random((5, 3)), b, y)
    for nothing in ([],):
        dep = class_dependence(profile, "SK_2_1", nothing, draws=20)
        assert (dep.classes, dep.images, dep.min_per_class, dep.channels) == (0, 0, 0, 3)
        assert np.isnan(dep.eta_squared) and np.isnan(dep.specificity) and np.isnan(dep.specificity_null)
        assert dep.channels_significant == 0 and not dep.enough_images
    # two classes: replicates exist, so every interval and noise floor is a number
    two = class_dependence(profile, "SK_2_1", [0, 3], draws=30, seed=2)
    assert two.classes == 2 and two.images == 3
    for value in (*two.eta_squared_interval, *two.omega_squared_interval, *two.specificity_interval,
                  two.specificity_null, two.specificity_null_q95):
        assert np.isfinite(value)
    # four classes of five images (n = k + 1): omega^2 reaches below -1, its interval is clipped at -1
    sel = [0, 1, 2, 3]
    n_k = np.array([1.0, 1.0, 1.0, 2.0])
    m = np.array([b[y == k].mean(axis=0) for k in sel])
    m2 = np.array([((b[y == k] - b[y == k].mean(axis=0)) ** 2).sum(axis=0) for k in sel])
    dep = class_dependence(profile, "SK_2_1", sel, draws=200, seed=4)
    omega = _eta_omega(n_k, m, m2.sum(axis=0))[1]
    assert dep.omega_squared == pytest.approx(omega, rel=1e-5)
    reps = class_draws(n_k, m, m2, draws=200, seed=4).omega_squared
    q_low, q_high = np.percentile(reps, [2.5, 97.5])
    lower, upper = 2 * omega - q_high, 2 * omega - q_low
    assert dep.omega_squared_interval == pytest.approx(tuple(np.clip([lower, upper], -1.0, 1.0)), rel=1e-4, abs=1e-6)
    assert omega < -1.0 and lower < -1.0 and dep.omega_squared_interval[0] == -1.0
    assert _interval(omega, reps, -1.0)[0] == -1.0
