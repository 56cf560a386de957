"""Images coming into the app: uploads and sample files, with content hashes as cache keys."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from PIL import Image

from ..images import LoadedImage, list_image_files, load_image
from ..errors import ImageLoadError

SAMPLES_ENV = "ATTNVIZ_SAMPLES"


def image_digest(data: bytes) -> str:
    """Cache key of an image: the sha256 of its bytes (the same photo under two names is one key)."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ImageInput:
    """Raw bytes of one image as given by the person, before decoding."""

    name: str
    data: bytes

    @property
    def digest(self) -> str:
        return image_digest(self.data)


@dataclass
class DecodedImage(LoadedImage):
    """An input after decoding (attnviz.images.LoadedImage) plus the sha256 of its bytes, which
    keys the app's caches. ``error`` holds the reason alone: the app shows it beside the name."""

    digest: str = ""


def decode(item: ImageInput) -> DecodedImage:
    """Decode one input; a bad file gets its message instead of raising."""
    try:
        return DecodedImage(name=item.name, digest=item.digest, image=load_image(item.data, item.name))
    except ImageLoadError as exc:
        return DecodedImage(name=item.name, digest=item.digest, error=exc.reason)


def samples_folder(app_dir: str | Path) -> Path | None:
    """The sample images folder: $ATTNVIZ_SAMPLES, else ``../shared/data/imagenet-samples``
    relative to the app; None when it does not exist (the app then hides the samples)."""
    configured = os.environ.get(SAMPLES_ENV)
    folder = Path(configured) if configured else Path(app_dir).resolve().parent / "shared" / "data" / "imagenet-samples"
    return folder if folder.is_dir() and list_image_files(folder) else None


def sample_label(path: Path) -> str:
    """'n01440764_tench.JPEG' -> 'tench'; other names -> their stem with spaces."""
    stem = path.stem
    head, _, rest = stem.partition("_")
    if rest and head.startswith("n") and head[1:].isdigit():
        stem = rest
    return stem.replace("_", " ")


def read_files(paths: Iterable[Path]) -> list[ImageInput]:
    """Inputs from files on disk; an unreadable file becomes an empty input (decoding says why)."""
    items = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError:
            data = b""
        items.append(ImageInput(Path(path).name, data))
    return items


def unique_names(names: Iterable[str]) -> list[str]:
    """Make repeated names distinct ('a.jpg', 'a.jpg' -> 'a.jpg', 'a.jpg (2)') so that every
    image has its own charts and widget keys."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out
