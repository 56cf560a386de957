"""The scale experiment: zoom, and sweeps of SK attention over zoom factors."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from attnviz.scale import zoom


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
