"""Crop-first preprocessing: the pixels of timm's resize-then-crop, at the memory of the crop."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from timm.data import create_transform

from attnviz.images import load_image
from attnviz.memory import peak_rss, reset_peak_rss, rss
from attnviz.preprocess import CropFirst, eval_transform

CONFIGS = [
    dict(input_size=(3, 144, 144), interpolation="bicubic", mean=(0.485, 0.456, 0.406),
         std=(0.229, 0.224, 0.225), crop_pct=0.875, crop_mode="center"),
    dict(input_size=(3, 224, 224), interpolation="bilinear", mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5),
         crop_pct=0.95, crop_mode="center"),
]


def _levels(a: torch.Tensor, b: torch.Tensor, cfg: dict) -> np.ndarray:
    """Absolute difference in 8-bit grey levels (0..255) of two normalised tensors."""
    std = torch.tensor(cfg["std"]).view(3, 1, 1)
    return ((a - b).abs() * std * 255).numpy()


@pytest.mark.parametrize("cfg", CONFIGS, ids=["144-bicubic", "224-bilinear"])
def test_same_pixels_as_timm_on_photos(cfg, samples_dir):
    """Tolerance, per photo (96 ImageNet photos): at most 5 grey levels (of 255) anywhere, more
    than one level in under 0.1 % of the values, and under 0.3 levels on average. (PIL rounds the
    intermediate rows of its two-pass resampling to 8 bits, and the rows kept differ.)"""
    timm_tf, ours = create_transform(**cfg), CropFirst(cfg)
    files = sorted(samples_dir.glob("*.JPEG"))
    assert len(files) > 50
    for path in files:
        image = load_image(path)
        diff = _levels(timm_tf(image), ours(image), cfg)
        assert diff.max() <= 5.01, path.name
        assert (diff > 1.01).mean() < 0.001, path.name
        assert diff.mean() < 0.3, path.name


@pytest.mark.parametrize("size", [(300, 200), (200, 300), (1000, 999), (3, 700), (700, 3)])
def test_same_region_for_any_aspect(size):
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))
    cfg = CONFIGS[0]
    diff = _levels(create_transform(**cfg)(image), CropFirst(cfg)(image), cfg)
    assert diff.mean() < 0.5


def test_an_extreme_strip_costs_the_crop_not_the_resize():
    """timm's transform would build a 6.56-million-pixel-wide strip (about 4 GB) from this."""
    strip = Image.new("RGB", (40000, 1), (20, 200, 30))
    reset_peak_rss()
    before = rss()
    tensor = CropFirst(CONFIGS[0])(strip)
    assert tensor.shape == (3, 144, 144)
    if before is not None:
        assert peak_rss() - before < 64 * 2**20


def test_other_crop_modes_keep_timms_transform():
    squash = dict(CONFIGS[0], crop_mode="squash")
    assert not isinstance(eval_transform(squash), CropFirst)
    assert isinstance(eval_transform(CONFIGS[0]), CropFirst)
    assert not isinstance(eval_transform(dict(CONFIGS[0], input_size=(3, 224, 160))), CropFirst)
