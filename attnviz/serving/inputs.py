"""Images coming into the app: uploads and sample files, with content hashes as cache keys."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from collections.abc import Iterable, Sequence

from PIL import Image

from ..images.loading import LoadedImage, list_image_files
from ..errors import ImageLoadError
from ..i18n import _, ngettext

SAMPLES_ENV = "ATTNVIZ_SAMPLES"


def image_digest(data: bytes) -> str:
    """Cache key of an image: the sha256 of its bytes (the same photo under two names is one key)."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ImageInput:
    """Raw bytes of one image as given by the person, before decoding."""

    name: str
    data: bytes
    label: str | None = None     # the true class, when known (sample photos are named by it)

    @cached_property
    def digest(self) -> str:
        """Computed once per input (an upload's input is kept for the session, so once per upload)."""
        return image_digest(self.data)


@dataclass(frozen=True)
class DecodedImage(LoadedImage):
    """An input after decoding (attnviz.images.loading.LoadedImage) plus the sha256 of its bytes, which
    keys the app's caches. ``error`` holds the reason alone: the app shows it beside the name.

    The app keeps bounded copies only (``attnviz.images.loading.load_views``): ``image`` is what the models
    see (the centre of the photo, short side at most 512 pixels), ``display`` the thumbnail shown
    on the page, ``size`` the original width and height.
    """

    digest: str = ""
    display: Image.Image | None = None
    size: tuple[int, int] = (0, 0)
    label: str | None = None

    @property
    def nbytes(self) -> int:
        """Memory held by the kept copies (Pillow stores 4 bytes per RGB pixel)."""
        return sum(4 * im.width * im.height for im in (self.image, self.display) if im is not None)


def decode(item: ImageInput) -> DecodedImage:
    """Decode one input into bounded copies, in a decoder process with its memory and CPU limits
    (``attnviz.serving.decoding``); a bad file gets its message instead of raising. No exception
    tied to the file escapes: a decoder's failure is the file's refusal."""
    from .decoding import decoder_pool

    try:
        views = decoder_pool().decode(item.data, item.name)
    except ImageLoadError as exc:
        return DecodedImage(name=item.name, digest=item.digest, error=exc.reason, label=item.label)
    return DecodedImage(name=item.name, digest=item.digest, image=views.model, display=views.display,
                        size=views.size, label=item.label, notes=views.notes)


def samples_folder(app_dir: str | Path) -> Path | None:
    """The sample images folder: $ATTNVIZ_SAMPLES, else ``../shared/data/imagenet-samples``
    relative to the app; None when it does not exist (the app then hides the samples)."""
    configured = os.environ.get(SAMPLES_ENV)
    folder = Path(configured) if configured else Path(app_dir).resolve().parent / "shared" / "data" / "imagenet-samples"
    return folder if folder.is_dir() and folder_images(folder) else None


def folder_images(folder: str | Path) -> tuple[Path, ...]:
    """``list_image_files(folder)``, listed again only when the folder changes: every script run
    of every session asks for the samples, and listing 96 photos is a hundred ``stat`` calls, each
    of which gives up the GIL that thirty sessions are waiting for (bench/classroom.py). Adding,
    removing or renaming a file changes the folder's mtime, which is part of the key."""
    folder = Path(folder)
    try:
        changed = folder.stat().st_mtime_ns
    except OSError:
        return ()
    return _listed(str(folder), changed)


@lru_cache(maxsize=16)
def _listed(folder: str, changed: int) -> tuple[Path, ...]:  # noqa: ARG001  changed: part of the cache key
    return tuple(list_image_files(folder))


def sample_label(path: Path) -> str:
    """'n01440764_tench.JPEG' -> 'tench'; other names -> their stem with spaces."""
    stem = path.stem
    head, _sep, rest = stem.partition("_")
    if rest and head.startswith("n") and head[1:].isdigit():
        stem = rest
    return stem.replace("_", " ")


def read_files(paths: Iterable[Path], labelled: bool = False) -> list[ImageInput]:
    """Inputs from files on disk; an unreadable file becomes an empty input (decoding says why).
    ``labelled``: sample photos, named and labelled by their class ('tench'), not their file name."""
    items = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError:
            data = b""
        label = sample_label(Path(path)) if labelled else None
        items.append(ImageInput(label or Path(path).name, data, label))
    return items


def knows(class_names: Sequence[str], label: str) -> bool:
    """Whether a model with these outputs knows the class ``label`` (case and spacing aside)."""
    wanted = label.strip().lower()
    return any(name.strip().lower() == wanted for name in class_names)


def vocabulary_note(class_names: Sequence[str], label: str | None) -> str | None:
    """What to say beside a photo whose true class the model cannot predict; None when it can."""
    if label is None or knows(class_names, label):
        return None
    return ngettext("This model knows {count} class; '{label}' is not it, so its "
                    "top-5 can only name that one.",
                    "This model knows {count} classes; '{label}' is not one of them, so its "
                    "top-5 can only name the closest of those it knows.", len(class_names)).format(
        count=len(class_names), label=label)


def unique_names(names: Iterable[str]) -> list[str]:
    """Make repeated names distinct ('a.jpg', 'a.jpg' -> 'a.jpg', 'a.jpg (2)') so that every
    image has its own charts and widget keys."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def session_caps(items: Sequence[ImageInput], max_images: int, max_bytes: int) -> tuple[list[ImageInput], list[DecodedImage]]:
    """The inputs one session may analyse, in order, and a message for each one left out.

    Streamlit caps the size of each file but neither the number of files nor their sum; a
    session keeps at most ``max_images`` images of at most ``max_bytes`` together."""
    kept: list[ImageInput] = []
    refused: list[DecodedImage] = []
    total = 0
    for item in items:
        if len(kept) >= max_images:
            reason = ngettext("not analysed: a session may analyse at most {count} image at once; "
                              "remove it to add another",
                              "not analysed: a session may analyse at most {count} images at once; "
                              "remove some to add others", max_images).format(count=max_images)
        elif total + len(item.data) > max_bytes:
            reason = _("not analysed: the images of a session may add up to at most "
                       "{size}; remove some to add others").format(size=_size(max_bytes))
        else:
            kept.append(item)
            total += len(item.data)
            continue
        refused.append(DecodedImage(name=item.name, digest=item.digest, error=reason))
    return kept, refused


def _size(nbytes: int) -> str:
    return f"{nbytes / 2**20:.0f} MB" if nbytes >= 2**20 else f"{nbytes / 1024:.1f} KB"
