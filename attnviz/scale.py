"""The SKNet scale experiment: zoom into an image and watch SK units shift toward the larger kernel.

SKNet (Li et al., 2019, Sec. 4.3) enlarges the object by centre-cropping and resizing back, then
compares the attention on the 5x5 path (b) with the 3x3 path (a): as objects grow, the mean
attention difference b - a of the early and middle SK units rises. ``zoom`` makes the enlarged
copies, ``scale_sweep`` analyses every image at every scale, and ``ScaleSweep`` summarises it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from PIL import Image

from .gates import Gate
from .inference import ImageAnalysis, analyse_images
from .zoo import LoadedModel


def zoom(image: Image.Image, factor: float) -> Image.Image:
    """Enlarge the centre of ``image`` by ``factor``: keep the central 1/factor of each side and
    resize it back to the original size (bicubic). Factor 1.0 returns the image unchanged."""
    if not np.isfinite(factor) or factor < 1.0:
        raise ValueError(f"zoom factor must be a number >= 1.0 (1.0 = unchanged, 2.0 = objects twice "
                         f"as large), got {factor!r}")
    if factor == 1.0:
        return image
    width, height = image.size
    crop_w, crop_h = width / factor, height / factor
    left, top = (width - crop_w) / 2, (height - crop_h) / 2
    # resize(box=...) crops with sub-pixel precision, so odd sizes stay centred.
    return image.resize((width, height), Image.Resampling.BICUBIC,
                        box=(left, top, left + crop_w, top + crop_h))
