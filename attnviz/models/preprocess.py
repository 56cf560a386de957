"""The model's evaluation preprocessing: timm's own transform, and crop-first where it would
cost too much memory.

timm's evaluation transform resizes the short side to ``size / crop_pct`` and then cuts the centre
square. For an ordinary photo that intermediate image is small, and ``ModelTransform`` runs
exactly timm's transform (``timm.data.create_transform(**data_config)``): the pixels are timm's.
For a 40000x1 strip the intermediate would be 6.5 million pixels wide (gigabytes) only to keep
144x144 of it, so beyond ``TIMM_RESIZE_PIXELS`` pixels of intermediate image (an aspect ratio
of about 64:1 for a 256-pixel short side) ``CropFirst`` computes the same centre region in the
original image's coordinates and resamples only that box: memory then follows the model's input,
never the file. Its pixels are close to timm's but not equal, because a filter resampling a box
does not round its intermediate rows as timm's whole-image resize does and, for bicubic filters,
its support differs at the box edges: tests/models/test_preprocess.py measures the difference on
portrait, landscape and square photos (at most ``CROP_FIRST_TOLERANCE`` grey levels for bilinear
and bicubic configurations). ``ModelTransform.path`` says which of the two an image of a given
size takes.

Only timm's default ``crop_mode='center'`` with a square input needs this; the ``squash`` and
``border`` modes (and non-square inputs) resize the whole image to a bounded size already, and keep
timm's own transform.
"""
from __future__ import annotations

import math
from collections.abc import Callable

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
#: Pixel budget of timm's intermediate (resized, not yet cropped) image: at most 4,194,304 pixels,
#: 16 MB at Pillow's 4 bytes per RGB pixel. Photos under it take timm's transform exactly.
TIMM_RESIZE_PIXELS = 2 ** 22
#: Largest difference, in 8-bit grey levels, of crop-first from timm's transform on photos
#: (measured on the project's sample photos cut to portrait, landscape and square; the test).
CROP_FIRST_TOLERANCE = 16
PATH_TIMM, PATH_CROP_FIRST = "timm", "crop-first"


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

    def resized(self, width: int, height: int) -> tuple[int, int]:
        """The size of timm's intermediate image: torchvision Resize(short side -> floor(size / crop_pct))."""
        scale_size = math.floor(self.size / self.crop_pct)
        if width <= height:
            return scale_size, int(scale_size * height / width)
        return int(scale_size * width / height), scale_size

    def box(self, width: int, height: int) -> tuple[float, float, float, float]:
        """The region of a width x height image that timm's transform keeps, in its pixels.

        timm: torchvision Resize(short side -> floor(size / crop_pct)), then CenterCrop(size).
        """
        new_w, new_h = self.resized(width, height)
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


class ModelTransform:
    """timm's evaluation transform for images whose intermediate resize fits
    ``TIMM_RESIZE_PIXELS``, ``CropFirst`` for the others (timm's centre crop of a square input)."""

    def __init__(self, data_config: dict, budget: int = TIMM_RESIZE_PIXELS) -> None:
        self.timm = create_transform(**data_config)
        self.crop_first = CropFirst(data_config)
        self.budget = int(budget)

    def path(self, size: tuple[int, int]) -> str:
        """``PATH_TIMM`` or ``PATH_CROP_FIRST``: which preprocessing an image of ``size`` (width, height) takes."""
        width, height = self.crop_first.resized(*size)
        return PATH_TIMM if width * height <= self.budget else PATH_CROP_FIRST

    def __call__(self, image: Image.Image) -> torch.Tensor:
        if self.path(image.size) == PATH_TIMM:
            return self.timm(image.convert("RGB"))
        return self.crop_first(image)


def preprocessing_path(transform: Transform, size: tuple[int, int]) -> str:
    """Which preprocessing a model's transform applies to an image of ``size``: ``PATH_TIMM``
    unless a ``ModelTransform`` takes the crop-first path for it."""
    return transform.path(size) if isinstance(transform, ModelTransform) else PATH_TIMM


def preprocessing_rule(transform: Transform) -> str:
    """What a profile records about its preprocessing: which images took which path."""
    if isinstance(transform, ModelTransform):
        return (f"timm's eval transform (create_transform(**data_config)) for every image whose resized, "
                f"uncropped intermediate has at most {transform.budget:,} pixels; crop-first (the same "
                f"centre region resampled directly, within {CROP_FIRST_TOLERANCE} grey levels) above it")
    return "timm's eval transform (create_transform(**data_config)) for every image"


def eval_transform(data_config: dict) -> Transform:
    """The model's evaluation transform: ``ModelTransform`` for timm's centre crop of a square
    input (timm's own transform within the pixel budget), timm's own otherwise."""
    mode = data_config.get("crop_mode") or "center"
    height, width = data_config["input_size"][-2:]
    if mode == "center" and height == width:
        return ModelTransform(data_config)
    return create_transform(**data_config)
