"""A zip of class folders, uploaded by a visitor, read in memory and never extracted to disk.

Layout: ``<class>/<image>`` or ``<top folder>/<class>/<image>``. The number of entries and the
size of the central directory are read from the end-of-central-directory record and checked
before zipfile reads the directory (a 64 MB zip listing 1.2 million entries once cost 10 s and
674 MiB before its refusal). Entry names are normalised once (backslashes, ``//``, ``./``) and
every later step uses the normalised name; two entries with one name are refused by name, and
absolute, ``..`` and symbolic-link entries are left out. Every entry is checked before it is
read: its declared size (zipfile never reads past it) and its compression ratio (zip bombs), so
memory follows the caps, not what the archive claims.
"""
from __future__ import annotations

import io
import stat
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from ..errors import AttnvizError, ImageLoadError
from ..i18n import _
from ..images.loading import EXTENSIONS
from ..images.sampling import first_per_class
from .limits import ServerLimits

_MiB = 1024 * 1024
#: Bytes of central directory allowed per entry: 46 fixed, a name and the usual extra fields.
_DIRECTORY_BYTES_PER_ENTRY = 512
_EOCD, _EOCD64_LOCATOR, _EOCD64 = b"PK\x05\x06", b"PK\x06\x07", b"PK\x06\x06"


def directory_size(data: bytes) -> tuple[int, int] | None:
    """(entries, bytes) of a zip's central directory, read from its end records (zip64 too)
    without reading the directory; None when there is no end record (not a zip)."""
    tail_start = max(0, len(data) - (22 + 65535))
    at = data.rfind(_EOCD, tail_start)
    if at < 0 or at + 22 > len(data):
        return None
    _sig, _disk, _cd_disk, _here, entries, size, _offset, _comment = struct.unpack("<4s4H2LH", data[at:at + 22])
    locator = at - 20
    if (entries == 0xFFFF or size == 0xFFFFFFFF) and locator >= 0 and data[locator:locator + 4] == _EOCD64_LOCATOR:
        (record,) = struct.unpack("<Q", data[locator + 8:locator + 16])
        if record + 56 <= len(data) and data[record:record + 4] == _EOCD64:
            entries, size = struct.unpack("<QQ", data[record + 32:record + 48])
    return entries, size


def entry_name(raw: str) -> str | None:
    """An entry's name as every later step sees it: '/' for backslashes, no empty or '.' parts;
    None for a name that is absolute or climbs out ('..'), which is never read."""
    text = raw.replace("\\", "/")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        return None
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        return None
    return "/".join(parts)


def _is_link(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


@dataclass
class ZipClassFolder:
    """The images of an uploaded zip of class folders, read lazily with the caps applied."""

    name: str
    archive: zipfile.ZipFile
    classes: list[str]
    entries: list[tuple[str, int]]                     # (normalised entry name, class index)
    skipped: list[dict] = field(default_factory=list)  # {"file", "reason"} left out when listed
    infos: dict[str, zipfile.ZipInfo] = field(default_factory=dict)  # normalised name -> entry
    max_entry_bytes: int = 25 * _MiB
    max_ratio: int = 200

    def read(self, entry: str) -> bytes:
        """One entry's bytes (by its normalised name); an entry over the caps raises ImageLoadError
        naming it."""
        info = self.infos.get(entry_name(entry) or "")
        if info is None:
            raise ImageLoadError(entry, _("is not an image of this zip"))
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
    archive, infos = _open_archive(data, name, limits)
    files, skipped, by_name = _image_entries(infos, name)
    by_class = _class_folders(files, skipped)
    if not by_class:
        raise AttnvizError(_("{name} has no class folders with images; zip a folder that holds one "
                             "subfolder per class, each with images ({extensions})").format(
            name=name, extensions=", ".join(EXTENSIONS)))
    classes = sorted(by_class)
    entries = first_per_class([(entry, k) for k, cls in enumerate(classes) for entry in sorted(by_class[cls])],
                              per_class)
    return ZipClassFolder(name, archive, classes, entries, skipped, by_name,
                          max_entry_bytes=limits.image_mb * _MiB, max_ratio=limits.zip_ratio)


def _too_many_entries(name: str, entries: int, limits: ServerLimits) -> AttnvizError:
    return AttnvizError(_("{name} holds {entries:,} entries, over the limit of {limit:,}; zip fewer images "
                          "(the profile uses at most {per_class} per class)").format(
        name=name, entries=entries, limit=limits.zip_entries, per_class=limits.per_class_images))


def _open_archive(data: bytes, name: str, limits: ServerLimits) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """The zip and its entries, refused by its end record before zipfile reads a directory too long."""
    not_zip = AttnvizError(_("{name} is not a readable zip file; zip a folder that holds one "
                             "subfolder per class").format(name=name))
    declared = directory_size(data)
    if declared is None:
        raise not_zip
    declared_entries, size = declared
    if declared_entries > limits.zip_entries or size > limits.zip_entries * _DIRECTORY_BYTES_PER_ENTRY:
        # Refused from the end record: zipfile would read the whole directory first.
        raise _too_many_entries(name, max(declared_entries, size // _DIRECTORY_BYTES_PER_ENTRY), limits)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, struct.error):
        raise not_zip from None
    if len(infos) > limits.zip_entries:
        raise _too_many_entries(name, len(infos), limits)
    return archive, infos


def _image_entries(infos: list[zipfile.ZipInfo], name: str
                   ) -> tuple[list[tuple[str, tuple[str, ...]]], list[dict], dict[str, zipfile.ZipInfo]]:
    """(entry, its path parts) of every image file, the entries left out with their reason, and
    every file entry by its normalised name."""
    files = []
    skipped = []
    by_name: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        normal = entry_name(info.filename)
        if normal is None or _is_link(info):
            skipped.append({"file": info.filename, "reason": _("a link or a path outside the zip; left out")})
            continue
        parts = tuple(normal.split("/")) if normal else ()
        if info.is_dir() or not parts or parts[0] == "__MACOSX" or any(p.startswith(".") for p in parts):
            continue
        if normal in by_name:
            raise AttnvizError(_("{name} holds two entries named {entry}; zip each image once").format(
                name=name, entry=normal))
        by_name[normal] = info
        if PurePosixPath(normal).suffix.lower() not in EXTENSIONS:
            skipped.append({"file": normal, "reason": _("not an image file; left out")})
            continue
        files.append((normal, parts))
    return files, skipped, by_name


def _class_folders(files: list[tuple[str, tuple[str, ...]]], skipped: list[dict]) -> dict[str, list[str]]:
    """class -> its images: ``<class>/<image>``, or ``<top>/<class>/<image>`` when one folder holds
    them all; other files are added to ``skipped``."""
    tops = {parts[0] for _entry, parts in files}
    strip = 1 if len(tops) == 1 and all(len(parts) == 3 for _entry, parts in files) else 0
    by_class: dict[str, list[str]] = {}
    for entry, parts in files:
        rest = parts[strip:]
        if len(rest) != 2:
            skipped.append({"file": entry, "reason": _("not inside a class folder (<class>/<image>); left out")})
            continue
        by_class.setdefault(rest[0], []).append(entry)
    return by_class
