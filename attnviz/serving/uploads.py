"""Uploads admitted by the server, on the first read: size, count and total checked before a byte is
read, each upload read once per session.

The uploader's ``max_upload_size`` is only checked by the browser: a scripted visitor can send any
file up to Streamlit's ``server.maxUploadSize`` (64 MB here), and any number of them. So the server
looks at what Streamlit has stored (name and size are known without reading the bytes) and admits
a file only when it is within the per-file size, the session's number of images and the session's
total; a refused file is named with the limit it broke, and its bytes can be let go at once
(``Admission.refused_ids``). An admitted file becomes an ``ImageInput`` once and is kept by its
upload id, so reruns neither read nor hash it again.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol
from collections.abc import Sequence

from ..i18n import _, ngettext
from .inputs import ImageInput
from .limits import ServerLimits

MiB = 1024 * 1024


class Upload(Protocol):
    """What Streamlit's ``UploadedFile`` offers (``file_id``, ``name``, ``size``, ``getvalue()``)."""

    file_id: str
    name: str
    size: int

    def getvalue(self) -> bytes: ...


@dataclass
class Admission:
    """The uploads of one run: those admitted (read once), and (name, reason) for each refused."""

    admitted: list[ImageInput] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    refused_ids: list[str] = field(default_factory=list)   # uploads whose bytes may be released


def admit(uploads: Sequence[Upload], limits: ServerLimits, kept: dict[str, ImageInput],
          already: int = 0) -> Admission:
    """Check ``uploads`` in order against ``limits`` before reading them.

    ``kept``: the session's inputs by upload id (read on an earlier run; updated here, and entries
    for uploads no longer listed are dropped, so it holds no more than the uploader does).
    ``already``: images the session has from elsewhere this run (none today; the camera counts).
    """
    out = Admission()
    count, total = already, 0
    per_file = limits.image_mb * MiB
    listed = set()
    for upload in uploads:
        listed.add(upload.file_id)
        reason = None
        if upload.size > per_file:
            reason = _("is {size:.1f} MB, over the limit of {limit} MB per image; make it smaller or "
                       "choose another").format(size=upload.size / MiB, limit=limits.image_mb)
        elif count >= limits.images_per_session:
            reason = ngettext("not analysed: a session may analyse at most {count} image at once; "
                              "remove it to add another",
                              "not analysed: a session may analyse at most {count} images at once; "
                              "remove some to add others", limits.images_per_session).format(
                count=limits.images_per_session)
        elif total + upload.size > limits.upload_bytes_per_session:
            reason = _("not analysed: the images of a session may add up to at most "
                       "{size}; remove some to add others").format(size=f"{limits.upload_mb_per_session} MB")
        if reason is not None:
            out.refused.append((upload.name, reason))
            out.refused_ids.append(upload.file_id)
            kept.pop(upload.file_id, None)
            continue
        item = kept.get(upload.file_id)
        if item is None or item.name != upload.name:
            item = kept[upload.file_id] = ImageInput(upload.name, upload.getvalue())
        out.admitted.append(item)
        count += 1
        total += upload.size
    for gone in set(kept) - listed:
        del kept[gone]
    return out
