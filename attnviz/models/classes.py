"""Class names: ImageNet's from timm, and the mapping from ImageNet wnid folder names."""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from timm.data import ImageNetInfo

from ..errors import AttnvizError
from ..i18n import _

if TYPE_CHECKING:  # the zoo imports this module
    from .zoo import LoadedModel


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


def class_targets(loaded: LoadedModel, folders: list[str]) -> list[int]:
    """Model output index for each dataset class folder (evaluation and profiles both need it).

    A model trained on these folders (a bundled model) maps them by name; an ImageNet model maps
    ImageNet wnid folders to their ImageNet index.
    """
    own = loaded.meta.class_folders if loaded.meta is not None else ()
    if own and all(f in own for f in folders):
        return [own.index(f) for f in folders]
    if len(loaded.class_names) == 1000:
        indices = [imagenet_index(f) for f in folders]
        known = [i for i in indices if i is not None]
        if len(known) == len(folders):
            return known
        missing = [f for f, i in zip(folders, indices, strict=True) if i is None]
        raise AttnvizError(_("class folders {folders} are not ImageNet wnids, so they cannot be matched to the "
                             "outputs of {model}").format(folders=missing[:3], model=loaded.name))
    names = [folder_class_name(f) for f in folders]
    if all(n in loaded.class_names for n in names):
        return [loaded.class_names.index(n) for n in names]
    raise AttnvizError(_("the class folders of the data do not match the classes of {model}").format(model=loaded.name))
