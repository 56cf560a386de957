"""A tiny Imagenette-layout folder of two classes (tench, parachute), for the training tests."""
from __future__ import annotations
import numpy as np
from PIL import Image


WNIDS = ["n01440764", "n03888257"]  # tench, parachute


def image_folder(root, per_class=3, side=40, seed=0):
    rng = np.random.default_rng(seed)
    for wnid in WNIDS:
        (root / wnid).mkdir(parents=True)
        for i in range(per_class):
            # Smooth images (a gradient plus a little noise), so lossy WebP stays close to them.
            y, x = np.mgrid[0:side, 0:side]
            pixels = np.stack([x * 255 / side, y * 255 / side, np.full_like(x, 40 * i)], -1)
            pixels = (pixels + rng.normal(0, 3, pixels.shape)).clip(0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / wnid / f"{i}.png")
    return root
