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

from attnviz.class_stats import similarity
from attnviz.gates import Gate, discover_gates, kind_named
from attnviz.profiling import ProfileAccumulator
from attnviz.scale import zoom
from attnviz.stats import class_specificity, holm_adjust, mcnemar_exact, paired_t_from_moments, paired_t_test

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
    from attnviz.class_stats import _interval, class_dependence
    from attnviz.stats import class_draws

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
