"""The scale experiment: zoom, and sweeps of SK attention over zoom factors."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from attnviz.analysis.scale import zoom


def _target(size=(120, 80)) -> Image.Image:
    """Blue border, a red centre covering the middle half of each side."""
    w, h = size
    arr = np.zeros((h, w, 3), np.uint8)
    arr[...] = (0, 0, 255)
    arr[h // 4: 3 * h // 4, w // 4: 3 * w // 4] = (255, 0, 0)
    return Image.fromarray(arr)


def test_zoom_one_is_identity():
    img = _target()
    assert zoom(img, 1.0) is img


def test_zoom_two_fills_the_frame_with_the_centre():
    img = _target()
    out = zoom(img, 2.0)
    assert out.size == img.size and out.mode == "RGB"
    arr = np.asarray(out).astype(int)
    # the central half of each side was red: after a 2x zoom the whole frame is red, up to
    # bicubic ringing at the very edge
    inner = arr[2:-2, 2:-2]
    assert np.abs(inner - np.array([255, 0, 0])).max() <= 10


def test_zoom_one_and_a_half_keeps_a_blue_rim():
    arr = np.asarray(zoom(_target((120, 80)), 1.5)).astype(int)
    # a 1.5x crop keeps the central 2/3: the red square now spans 3/4 of each side
    assert tuple(arr[40, 60]) == (255, 0, 0)
    assert arr[1, 1, 2] > 200 and arr[1, 1, 0] < 50      # corner still blue
    red_cols = np.where(arr[40, :, 0] > 128)[0]
    assert abs(len(red_cols) - 90) <= 2                     # 3/4 of 120 columns


@pytest.mark.parametrize("bad", [0.5, 0.0, -2.0, float("nan")])
def test_zoom_refuses_factors_below_one(bad):
    with pytest.raises(ValueError, match="zoom factor must be a number >= 1.0"):
        zoom(_target(), bad)


# ---------------------------------------------------------------- sweeps

from attnviz.images.loading import load_image  # noqa: E402
from attnviz.analysis.inference import analyse_images  # noqa: E402
from attnviz.analysis.scale import ScaleSweep, scale_sweep  # noqa: E402
from tiny import tiny  # noqa: E402


@pytest.fixture(scope="module")
def sk_model():
    return tiny("sk_resnet18_half", size=64)


@pytest.fixture(scope="module")
def photos(samples_dir):
    names = ["n01443537_goldfish.JPEG", "n01806143_peacock.JPEG"]
    return [load_image(samples_dir / n) for n in names]


@pytest.fixture(scope="module")
def sweep(sk_model, photos) -> ScaleSweep:
    return scale_sweep(sk_model, photos, names=["goldfish", "peacock"])


def test_sweep_at_scale_one_is_the_plain_analysis(sk_model, photos, sweep):
    assert sweep.scales == [1.0, 1.5, 2.0]
    plain = analyse_images(sk_model, photos)
    for got, want in zip(sweep.analyses[1.0], plain, strict=True):
        for name, values in want.values.items():
            np.testing.assert_allclose(got.values[name], values, atol=1e-6)
    assert [a.name for a in sweep.analyses[2.0]] == ["goldfish", "peacock"]


def test_mean_diff_is_b_minus_a_over_channels_and_images(sweep):
    sk_gates = [g.name for g in sweep.gates if g.kind.name == "sk"]
    assert len(sk_gates) == 8
    for scale in sweep.scales:
        diffs = sweep.mean_diff(scale)
        assert sorted(diffs) == sorted(sk_gates)
        for name in sk_gates:
            by_hand = np.mean([(a.values[name][1] - a.values[name][0]).mean() for a in sweep.analyses[scale]])
            assert diffs[name] == pytest.approx(by_hand, abs=1e-6)
    # zooming changes what the network sees, so the attention moves
    assert sweep.mean_diff(1.0) != pytest.approx(sweep.mean_diff(2.0), abs=1e-6)


def test_path_weights_and_table(sweep):
    gate = next(g for g in sweep.gates if g.kind.name == "sk")
    b = sweep.path_weights(1.5, gate.name)
    a = sweep.path_weights(1.5, gate.name, path=0)
    assert b.shape == (gate.channels,)
    np.testing.assert_allclose(a + b, 1.0, atol=1e-5)   # softmax over the two kernels
    np.testing.assert_allclose(b, np.mean([x.values[gate.name][1] for x in sweep.analyses[1.5]], axis=0),
                               atol=1e-6)
    import re

    with pytest.raises(ValueError, match=re.escape(f"gate {gate.name} has 2 path(s); path must be in 0..1, got 2")):
        sweep.path_weights(1.5, gate.name, path=2)
    with pytest.raises(ValueError, match=re.escape("path must be in 0..1, got -1")):
        sweep.path_weights(1.5, gate.name, path=-1)
    with pytest.raises(KeyError, match="this sweep has no scale 3; it has 1, 1.5, 2"):
        sweep.path_weights(3.0, gate.name)

    rows = sweep.table()
    assert len(rows) == 3 * 8 and set(rows[0]) == {"scale", "gate", "mean_a", "mean_b", "mean_diff"}
    for row in rows:
        assert row["mean_a"] + row["mean_b"] == pytest.approx(1.0, abs=1e-5)
        assert row["mean_diff"] == pytest.approx(row["mean_b"] - row["mean_a"], abs=1e-6)
        assert row["mean_diff"] == pytest.approx(sweep.mean_diff(row["scale"])[row["gate"]], abs=1e-9)


def test_sweep_of_an_se_model_has_no_path_rows(photos):
    sweep = scale_sweep(tiny("se_resnet18_half", size=64), photos[:1], scales=(1.0, 2.0))
    assert sweep.mean_diff(2.0) == {} and sweep.table() == []
    assert sweep.path_weights(2.0, "SE_3_1", path=0).shape == (64,)


def test_sweep_refuses_bad_scales_before_any_work(sk_model, photos):
    with pytest.raises(ValueError, match=r"zoom factor must be a number >= 1.0 .*got 0.5"):
        scale_sweep(sk_model, photos, scales=(1.0, 0.5))
    with pytest.raises(ValueError, match="at least one image"):
        scale_sweep(sk_model, [])
