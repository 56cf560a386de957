"""Analyses cached per (model, image content): a widget change that needs no new forward pass
runs none, and a folder of images is analysed in batches with progress reports."""
from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from typing import Callable, Sequence

from PIL import Image

from ..inference import ImageAnalysis, analyse_images
from ..zoo import LoadedModel
from .inputs import DecodedImage

Progress = Callable[[int, int], None]


class AnalysisCache:
    """Least-recently-used ImageAnalysis per (model key, image digest), shared by all sessions."""

    def __init__(self, max_entries: int = 512) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str], ImageAnalysis] = OrderedDict()
        self._lock = threading.Lock()
        self.forward_images = 0  # images that went through a forward pass (for tests and benches)

    def __len__(self) -> int:
        return len(self._entries)

    def _get(self, key: tuple[str, str]) -> ImageAnalysis | None:
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
            return hit

    def _put(self, key: tuple[str, str], analysis: ImageAnalysis) -> None:
        with self._lock:
            self._entries[key] = analysis
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def analyse(self, loaded: LoadedModel, model_key: str, images: Sequence[DecodedImage],
                progress: Progress | None = None, batch_size: int = 8,
                prepare: Callable[[Image.Image], Image.Image] | None = None) -> list[ImageAnalysis]:
        """ImageAnalysis for every decoded image, in order; only uncached ones are computed.

        progress(done, total) is called after each batch of uncached images.
        prepare: applied to an image before the model sees it (e.g. a zoom), only when it is not
        cached; the digest must then name the prepared image.
        """
        prepare = prepare or (lambda image: image)
        missing = [im for im in images if self._get((model_key, im.digest)) is None]
        unique = list({im.digest: im for im in missing}.values())
        for start in range(0, len(unique), batch_size):
            chunk = unique[start:start + batch_size]
            for im, analysis in zip(chunk, analyse_images(loaded, [prepare(im.image) for im in chunk],
                                                          [im.name for im in chunk])):
                self._put((model_key, im.digest), analysis)
            self.forward_images += len(chunk)
            if progress:
                progress(min(start + batch_size, len(unique)), len(unique))
        out = []
        for im in images:
            analysis = self._get((model_key, im.digest))
            if analysis is None:  # evicted meanwhile by a flood of other images: compute it again
                [analysis] = analyse_images(loaded, [prepare(im.image)], [im.name])
            out.append(dataclasses.replace(analysis, name=im.name))
        return out


class ResultStore:
    """Least-recently-used results of longer computations (class profiles), shared by sessions."""

    def __init__(self, max_entries: int = 16) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key) -> bool:
        with self._lock:
            return key in self._entries

    def get(self, key, compute: Callable[[], object] | None = None):
        """The stored result for ``key``; computed (and stored) with ``compute`` when missing."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        if compute is None:
            raise KeyError(key)
        value = compute()
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value
