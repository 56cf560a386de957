"""A zip of class folders, uploaded by a visitor, read in memory and never extracted to disk.

Layout: ``<class>/<image>`` or ``<top folder>/<class>/<image>``. Every entry is checked before it
is read: the number of entries, each entry's declared size (zipfile never reads past it) and its
compression ratio (zip bombs), so memory follows the caps, not what the archive claims.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from ..errors import AttnvizError, ImageLoadError
from ..i18n import _
from ..images import EXTENSIONS
from .limits import ServerLimits

_MiB = 1024 * 1024


@dataclass
class ZipClassFolder:
    """The images of an uploaded zip of class folders, read lazily with the caps applied."""

    name: str
    archive: zipfile.ZipFile
    classes: list[str]
    entries: list[tuple[str, int]]                     # (entry name, class index)
    skipped: list[dict] = field(default_factory=list)  # {"file", "reason"} left out when listed
    max_entry_bytes: int = 25 * _MiB
    max_ratio: int = 200

    def read(self, entry: str) -> bytes:
        """One entry's bytes; an entry over the caps raises ImageLoadError naming it."""
        info = self.archive.getinfo(entry)
        if info.file_size > self.max_entry_bytes:
            raise ImageLoadError(entry, _("is {size:.0f} MB when unpacked, over the limit of {limit} MB per "
                                          "image").format(size=info.file_size / _MiB,
                                                          limit=self.max_entry_bytes // _MiB))
        if info.file_size > _MiB and info.file_size > self.max_ratio * max(info.compress_size, 1):
            raise ImageLoadError(entry, _("unpacks {ratio} times larger than it is packed, over the limit of "
                                          "{limit}x (a zip bomb?)").format(
                ratio=info.file_size // max(info.compress_size, 1), limit=self.max_ratio))
        try:
            return self.archive.read(info)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError) as exc:
            raise ImageLoadError(entry, _("cannot be unpacked ({error})").format(error=exc)) from None


def read_zip_classes(data: bytes, name: str, limits: ServerLimits, per_class: int) -> ZipClassFolder:
    """List the class folders of a zip held in memory, at most ``per_class`` images per class."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise AttnvizError(_("{name} is not a readable zip file; zip a folder that holds one "
                             "subfolder per class").format(name=name)) from None
    if len(infos) > limits.zip_entries:
        raise AttnvizError(_("{name} holds {entries:,} entries, over the limit of {limit:,}; zip fewer images "
                             "(the profile uses at most {per_class} per class)").format(
            name=name, entries=len(infos), limit=limits.zip_entries, per_class=limits.per_class_images))
    files = []
    skipped = []
    for info in infos:
        parts = PurePosixPath(info.filename).parts
        if info.is_dir() or not parts or parts[0] == "__MACOSX" or any(p.startswith(".") for p in parts):
            continue
        if PurePosixPath(info.filename).suffix.lower() not in EXTENSIONS:
            skipped.append({"file": info.filename, "reason": _("not an image file; left out")})
            continue
        files.append((info.filename, parts))
    tops = {parts[0] for _entry, parts in files}
    strip = 1 if len(tops) == 1 and all(len(parts) == 3 for _entry, parts in files) else 0
    by_class: dict[str, list[str]] = {}
    for entry, parts in files:
        rest = parts[strip:]
        if len(rest) != 2:
            skipped.append({"file": entry, "reason": _("not inside a class folder (<class>/<image>); left out")})
            continue
        by_class.setdefault(rest[0], []).append(entry)
    if not by_class:
        raise AttnvizError(_("{name} has no class folders with images; zip a folder that holds one "
                             "subfolder per class, each with images ({extensions})").format(
            name=name, extensions=", ".join(EXTENSIONS)))
    classes = sorted(by_class)
    entries = [(entry, k) for k, cls in enumerate(classes) for entry in sorted(by_class[cls])[:per_class]]
    return ZipClassFolder(name, archive, classes, entries, skipped,
                          max_entry_bytes=limits.image_mb * _MiB, max_ratio=limits.zip_ratio)
