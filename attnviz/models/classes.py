"""Class names: ImageNet's from timm, and the mapping from ImageNet wnid folder names."""
from __future__ import annotations

from functools import lru_cache

from timm.data import ImageNetInfo


@lru_cache(maxsize=1)
def _info() -> ImageNetInfo:
    return ImageNetInfo()


def short_name(description: str) -> str:
    """'tench, Tinca tinca' -> 'tench': the first synonym is what people call the class."""
    return description.split(",")[0].strip()


@lru_cache(maxsize=1)
def imagenet_class_names() -> list[str]:
    """The 1000 ImageNet-1k class names in index order, e.g. index 1 -> 'goldfish'."""
    info = _info()
    return [short_name(info.index_to_description(i)) for i in range(info.num_classes())]


@lru_cache(maxsize=1)
def _wnid_index() -> dict[str, int]:
    info = _info()
    return {info.index_to_label_name(i): i for i in range(info.num_classes())}


def imagenet_index(wnid: str) -> int | None:
    """ImageNet-1k index of a wnid such as 'n01440764', or None if it is not an ImageNet-1k class."""
    return _wnid_index().get(wnid)


def folder_class_name(folder: str) -> str:
    """Readable name for a dataset class folder: ImageNet wnids become their class names."""
    index = imagenet_index(folder)
    return imagenet_class_names()[index] if index is not None else folder
