"""The sample photos the sidebar offers: the operator's folder when there is one, else photos that
scikit-image ships (``skimage.data``), so that a clean install opens on real photos.

The packaged photos are chosen for their licence, which scikit-image states in each loader's
docstring (``skimage/data/_fetchers.py``): CC0 or public domain, never ImageNet's research-only
terms. Each is labelled with the ImageNet class it shows where there is one ('tabby', 'espresso'),
else with what it shows ('astronaut', 'rocket'), so that the vocabulary note can say honestly that
a model does not know it.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .inputs import folder_images, sample_label, samples_folder


@dataclass(frozen=True)
class PackagedPhoto:
    """One photo of ``skimage.data``: its file, the class it shows, and its licence as stated there."""

    file: str
    label: str
    credit: str


#: In the order they are offered. Licences from scikit-image 0.26's skimage/data/_fetchers.py.
PACKAGED_PHOTOS = (
    PackagedPhoto("chelsea.png", "tabby", "Chelsea the cat, CC0 by the photographer (Stefan van der Walt)"),
    PackagedPhoto("coffee.png", "espresso", "Coffee cup, CC0 by the photographer (Rachel Michetti)"),
    PackagedPhoto("astronaut.png", "astronaut", "Eileen Collins, NASA, public domain"),
    PackagedPhoto("rocket.jpg", "rocket", "DSCOVR on Falcon 9, SpaceX, released into the public domain"),
)


def packaged_photos() -> dict[str, str]:
    """{path: label} of the packaged photos that are installed (none without scikit-image)."""
    try:
        folder = Path(str(resources.files("skimage") / "data"))
    except ModuleNotFoundError:
        return {}
    return {str(folder / p.file): p.label for p in PACKAGED_PHOTOS if (folder / p.file).is_file()}


def sample_photos(app_dir: str | Path) -> dict[str, str]:
    """{path: label} of the photos to offer: the samples folder's (``ATTNVIZ_SAMPLES``, else
    ``../shared/data/imagenet-samples``) when it has images, else the packaged ones."""
    folder = samples_folder(app_dir)
    if folder is None:
        return packaged_photos()
    return {str(p): sample_label(p) for p in folder_images(folder)}
