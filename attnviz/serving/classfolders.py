"""Folders of class images a served app can profile: a zip that a visitor uploads, or a folder of
the operator's data root. Either becomes a ``ClassFolders``: the samples (``ProfileData``), how
one sample is read (bounded copies, as for uploads), a name, and what was left out."""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable

from PIL import Image

from ..models.classes import folder_class_name
from ..i18n import _
from ..images.loading import load_views
from ..profiles.profile import Profile
from ..profiles.builder import profile_dataset, profile_images
from ..profiles.builder.datasets import ImageLoader, ProfileData
from ..models.zoo import LoadedModel
from .archive import read_zip_classes
from .dataroot import DataRoot
from .limits import ServerLimits


@dataclass
class ClassFolders:
    key: tuple                       # identifies the images (and the per-class limit) for caching
    data: ProfileData
    loader: ImageLoader
    name: str                        # what the profile records as its data
    left_out: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.data)


def bounded_loader(read: Callable[[str], bytes] | None = None) -> ImageLoader:
    """Samples decoded into bounded copies (the model view), as uploads are; ``read`` turns a
    sample into bytes (a visitor's zip entry: decoded in a decoder process with its limits, as an
    upload is), else the sample is a file path of the operator's data root (decoded here, under
    the same structure checks and memory budget)."""
    def load(sample, name: str) -> Image.Image:
        if read is not None:
            from .decoding import decoder_pool

            return decoder_pool().decode(read(str(sample)), name).model
        return load_views(sample, name).model
    return load


def from_data_root(root: DataRoot, relative: str, per_class: int) -> ClassFolders:
    """A folder of the data root (chosen among ``root.class_folders()``)."""
    samples, classes, refused = root.image_samples(relative, per_class)
    data = ProfileData(root.resolve(relative), samples, classes, [folder_class_name(c) for c in classes])
    return ClassFolders(("root", relative, per_class), data, bounded_loader(), relative, refused)


def from_zip(data: bytes, name: str, limits: ServerLimits, per_class: int) -> ClassFolders:
    """An uploaded zip of class folders, read in memory with the caps of ``limits``."""
    folder = read_zip_classes(data, name, limits, per_class)
    profile_data = ProfileData(Path(name), [(Path(e), k) for e, k in folder.entries], folder.classes,
                               [folder_class_name(c) for c in folder.classes])
    return ClassFolders(("zip", hashlib.sha256(data).hexdigest(), per_class), profile_data,
                        bounded_loader(folder.read), name,
                        [_("{name}: {reason}").format(name=s["file"], reason=s["reason"]) for s in folder.skipped])


def seconds_per_image(loaded: LoadedModel, batch: int = 4) -> float:
    """This machine's time for one image through the model and the profile statistics, measured
    on a small batch (after a warm-up), for the estimate shown before a profile starts."""
    images = [Image.new("RGB", (loaded.input_size,) * 2, (128, 128, 128))] * batch
    profile_images(loaded, images[:1], [0], ["x"])
    started = time.perf_counter()
    profile_images(loaded, images, [0] * batch, ["x"])
    return (time.perf_counter() - started) / batch


def profile_folders(loaded: LoadedModel, folders: ClassFolders,
                    on_progress: Callable[[int, int], None] | None = None) -> Profile:
    """The class profile of ``folders`` (one pass, in this thread: no worker processes)."""
    return profile_dataset(loaded, folders.data, workers=0, batch_size=16, progress=False,
                           loader=folders.loader, data_name=folders.name, on_progress=on_progress)
