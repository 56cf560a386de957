"""The model's preprocessing: exactly timm's eval transform for photos under the pixel budget, and
crop-first (close to timm's, at the memory of the crop) only beyond it."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from timm.data import create_transform

from attnviz.images.loading import load_image
from attnviz.runtime.memory import peak_rss, reset_peak_rss, rss
from attnviz.models.preprocess import (CROP_FIRST_TOLERANCE, PATH_CROP_FIRST, PATH_TIMM, TIMM_RESIZE_PIXELS, CropFirst,
                                ModelTransform, eval_transform, preprocessing_path)

#: timm's own pretrained configurations (no weights needed): three bicubic, one bilinear (the SENet
#: paper's legacy_seresnet50).
TIMM_MODELS = ["seresnet50", "skresnet18", "ecaresnet26t", "legacy_seresnet50"]


def _timm_config(name: str) -> dict:
    import timm
    from timm.data import resolve_data_config

    return resolve_data_config(pretrained_cfg=timm.models.get_pretrained_cfg(name).to_dict())


def _orientations(image: Image.Image) -> dict[str, Image.Image]:
    """Portrait, landscape and square cuts of a photo, and the photo turned by 90 degrees."""
    w, h = image.size
    s = min(w, h)
    return {"square": image.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)),
            "portrait": image.crop((0, 0, max(1, int(s * 0.66)), s)),
            "landscape": image.crop((0, 0, s, max(1, int(s * 0.6)))),
            "turned": image.rotate(90, expand=True)}


def test_timm_pretrained_configs_cover_both_filters():
    filters = {_timm_config(name)["interpolation"] for name in TIMM_MODELS}
    assert filters == {"bicubic", "bilinear"}


@pytest.mark.parametrize("name", TIMM_MODELS)
def test_photos_under_the_budget_get_exactly_timms_transform(name, samples_dir):
    """Every orientation of sample photos: the model's transform is timm's own
    (create_transform(**resolve_data_config(...))), value for value (every eighth photo); crop-first, which only
    photos over the budget take, stays within CROP_FIRST_TOLERANCE grey levels of it."""
    cfg = _timm_config(name)
    timm_tf, ours, crop_first = create_transform(**cfg), eval_transform(cfg), CropFirst(cfg)
    assert isinstance(ours, ModelTransform)
    files = sorted(samples_dir.glob("*.JPEG"))[::8]
    assert len(files) >= 12
    worst = {}
    for path in files:
        for orientation, image in _orientations(load_image(path)).items():
            assert preprocessing_path(ours, image.size) == PATH_TIMM
            expected = timm_tf(image)
            assert torch.equal(ours(image), expected), (path.name, orientation)
            diff = _levels(expected, crop_first(image), cfg)
            worst[orientation] = max(worst.get(orientation, 0.0), float(diff.max()))
            assert diff.mean() < 0.5, (path.name, orientation)
    assert max(worst.values()) <= CROP_FIRST_TOLERANCE + 0.01, worst


def test_only_images_over_the_budget_take_crop_first():
    ours = ModelTransform(CONFIGS[0])
    scale = int(144 / 0.875)                       # timm's short side before the crop
    longest = TIMM_RESIZE_PIXELS // scale           # the longest intermediate side within the budget
    assert ours.path((scale, longest)) == PATH_TIMM
    assert ours.path((scale, longest + 2)) == PATH_CROP_FIRST
    assert ours.path((40000, 1)) == PATH_CROP_FIRST and ours.path((1, 40000)) == PATH_CROP_FIRST
    strip = Image.new("RGB", (40000, 1), (20, 200, 30))
    assert ours(strip).shape == (3, 144, 144)

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


@pytest.mark.slow
@pytest.mark.parametrize("cfg", CONFIGS, ids=["144-bicubic", "224-bilinear"])
def test_crop_first_is_close_to_timm_on_photos(cfg, samples_dir):
    """Crop-first against timm on the 96 sample photos (mostly landscape): at most
    CROP_FIRST_TOLERANCE grey levels (of 255) anywhere and under 0.5 levels on average. It is not
    equal: PIL rounds the intermediate rows of its two-pass resampling to 8 bits, and the rows
    kept differ."""
    timm_tf, ours = create_transform(**cfg), CropFirst(cfg)
    files = sorted(samples_dir.glob("*.JPEG"))
    assert len(files) > 50
    for path in files:
        image = load_image(path)
        diff = _levels(timm_tf(image), ours(image), cfg)
        assert diff.max() <= CROP_FIRST_TOLERANCE + 0.01, path.name
        assert diff.mean() < 0.5, path.name


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
    assert not isinstance(eval_transform(squash), ModelTransform)
    assert isinstance(eval_transform(CONFIGS[0]), ModelTransform)
    assert not isinstance(eval_transform(dict(CONFIGS[0], input_size=(3, 224, 160))), ModelTransform)
    assert preprocessing_path(eval_transform(squash), (40000, 1)) == PATH_TIMM
