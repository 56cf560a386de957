"""Images: loading files and folders safely (``loading``), the decode cost read from a file's
header before decoding (``decode_cost``), the sandboxed decoder process (``decode_worker``) and
subsets of class-labelled samples (``sampling``).

Nothing is imported here: the decoder process (``python -m attnviz.images.decode_worker``) runs
with Pillow and numpy only, so ``from attnviz.images import load_image`` resolves on first use.
"""
from __future__ import annotations

import importlib

_FROM_LOADING = ("EXTENSIONS", "list_image_files", "load_image", "load_images")


def __getattr__(name: str):
    if name in _FROM_LOADING:
        return getattr(importlib.import_module(".loading", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = list(_FROM_LOADING)
