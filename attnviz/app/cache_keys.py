"""The keys of the app's process-wide caches: frozen objects whose fields are the whole key.

Every session of the server shares these caches, so a key must name everything its value depends
on: two visitors' ``photo.jpg`` with different bytes differ in ``digest``; the same photo under
another name, in another language or with other display options is another key. A cached function
takes its key object and reads nothing else that could change its result (the bytes or arrays it
also receives are named by the key's digest).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PhotoKey:
    """One image as the caches know it: the name it is shown under and the sha256 of its bytes."""

    name: str
    digest: str


@dataclass(frozen=True)
class DecodeKey:
    """A decode: the photo, and the language of its messages (a refusal's reason, the notes on what
    was ignored); ``language`` is None for the pictures, which are the same in every language."""

    photo: PhotoKey
    language: str | None = None


@dataclass(frozen=True)
class ChartKey:
    """The charts of one view of the Explore page (``view``: which builder), for these photos drawn
    by this served model (``ServedModel.key``) with the class profile of file ``profile`` (None:
    none) in this language, with the options the view reads."""

    view: str
    model: str
    photos: tuple[PhotoKey, ...]
    language: str
    profile: str | None = None
    gate: str | None = None
    channel: int | None = None
    sort_channels: bool = False
    distribution: str = "violin"
