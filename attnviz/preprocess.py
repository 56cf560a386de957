"""Model preprocessing that crops before it resizes.

timm's evaluation transform resizes the short side to ``size / crop_pct`` and then cuts the centre
square. For a 40000x1 strip that first builds an image 6.5 million pixels wide (gigabytes) only to
keep 144x144 of it. ``CropFirst`` computes the same centre region in the original image's
coordinates and resamples only that box to the model's size: PIL resamples a box from the same
source pixels, with the same filter, as it would when resizing the whole image, so the pixels equal
timm's (tests/test_preprocess.py checks this on photos) while memory follows the model's input
size, never the file's dimensions.

Only timm's default ``crop_mode='center'`` with a square input needs this; the ``squash`` and
``border`` modes (and non-square inputs) resize the whole image to a bounded size already, and keep
timm's own transform.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from PIL import Image
from timm.data import create_transform
from torchvision.transforms import functional as F

Transform = Callable[[Image.Image], torch.Tensor]

_RESAMPLING = {
    "nearest": Image.Resampling.NEAREST, "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS,
    "hamming": Image.Resampling.HAMMING, "box": Image.Resampling.BOX,
}
DEFAULT_CROP_PCT = 0.875  # timm's default when a config gives none


class CropFirst:
    """timm's centre-crop evaluation transform, computed on the crop box of the original image."""

    def __init__(self, data_config: dict) -> None:
        height, width = (int(v) for v in data_config["input_size"][-2:])
        if height != width:
            raise ValueError("CropFirst handles square inputs; use eval_transform()")
        self.size = height
        self.crop_pct = float(data_config.get("crop_pct") or DEFAULT_CROP_PCT)
        self.resample = _RESAMPLING[str(data_config.get("interpolation", "bilinear"))]
        self.mean = [float(v) for v in data_config["mean"]]
        self.std = [float(v) for v in data_config["std"]]

    def box(self, width: int, height: int) -> tuple[float, float, float, float]:
        """The region of a width x height image that timm's transform keeps, in its pixels.

        timm: torchvision Resize(short side -> floor(size / crop_pct)), then CenterCrop(size).
        """
        scale_size = math.floor(self.size / self.crop_pct)
        if width <= height:
            new_w, new_h = scale_size, int(scale_size * height / width)
        else:
            new_w, new_h = int(scale_size * width / height), scale_size
        left = int(round((new_w - self.size) / 2.0))
        top = int(round((new_h - self.size) / 2.0))
        fx, fy = new_w / width, new_h / height
        return left / fx, top / fy, (left + self.size) / fx, (top + self.size) / fy

    def crop(self, image: Image.Image) -> Image.Image:
        """The model's input as a PIL image (size x size)."""
        return image.resize((self.size, self.size), self.resample, box=self.box(*image.size))

    def __call__(self, image: Image.Image) -> torch.Tensor:
        tensor = F.pil_to_tensor(self.crop(image.convert("RGB"))).float().div_(255.0)
        return F.normalize(tensor, self.mean, self.std)


def eval_transform(data_config: dict) -> Transform:
    """The model's evaluation transform: crop-first for timm's centre crop, timm's own otherwise."""
    mode = data_config.get("crop_mode") or "center"
    height, width = data_config["input_size"][-2:]
    if mode == "center" and height == width:
        return CropFirst(data_config)
    return create_transform(**data_config)
