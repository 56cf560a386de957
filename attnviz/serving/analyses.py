"""Analyses cached per (served model, image content), shared by every session: a widget change
that needs no new forward pass runs none, new images are analysed in batches with progress
reports, and the scale experiment's zoomed copies are cached like any image."""
from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from collections import OrderedDict
from types import MappingProxyType
from collections.abc import Callable, Sequence

from PIL import Image

from ..i18n import _
from ..analysis.inference import ImageAnalysis, analyse_images
from ..analysis.scale import ScaleSweep, zoom
from .inputs import DecodedImage
from .models import ServedModel

Progress = Callable[[int, int], None]
log = logging.getLogger("attnviz.app")


def _decoded(im: DecodedImage) -> Image.Image:
    """The image of an input that decoded (the cache is handed only those)."""
    assert im.image is not None, im.name
    return im.image


def read_only(analysis: ImageAnalysis) -> ImageAnalysis:
    """``analysis`` as the cache shares it: its arrays read-only and its gate values a read-only
    mapping, so that no session can change what another one is shown."""
    for array in (analysis.probs, *analysis.values.values()):
        array.setflags(write=False)
    return dataclasses.replace(analysis, values=MappingProxyType(dict(analysis.values)))


class AnalysisCache:
    """Least-recently-used ImageAnalysis per (model key, image digest), shared by all sessions;
    the analyses handed out are read-only (``read_only``)."""

    def __init__(self, max_entries: int = 512) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str], ImageAnalysis] = OrderedDict()
        self._lock = threading.Lock()

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

    def analyse(self, model: ServedModel, images: Sequence[DecodedImage],
                progress: Progress | None = None, batch_size: int = 8,
                prepare: Callable[[Image.Image], Image.Image] | None = None,
                failures: dict[str, str] | None = None) -> list[ImageAnalysis]:
        """ImageAnalysis for every decoded image, in order; only uncached ones are computed.

        progress(done, total) is called after each batch of uncached images.
        prepare: applied to an image before the model sees it (e.g. a zoom), only when it is not
        cached; the digest must then name the prepared image.
        failures: when given, one image's failure cannot cost the others their analyses: a batch
        that fails is analysed again image by image, each image that still fails is left out of
        the result and its message recorded as ``failures[digest]``. Without it, errors propagate.
        """
        prepare = prepare or (lambda image: image)
        loaded, model_key = model.loaded, model.key

        def run(chunk: Sequence[DecodedImage]) -> None:
            results = analyse_images(loaded, [prepare(_decoded(im)) for im in chunk], [im.name for im in chunk])
            for im, analysis in zip(chunk, results, strict=True):
                self._put((model_key, im.digest), read_only(analysis))

        missing = [im for im in images if self._get((model_key, im.digest)) is None]
        unique = list({im.digest: im for im in missing}.values())
        for start in range(0, len(unique), batch_size):
            chunk = unique[start:start + batch_size]
            try:
                run(chunk)
            except Exception:
                if failures is None:
                    raise
                for im in chunk:
                    try:
                        run([im])
                    except Exception as exc:  # noqa: BLE001 - reported beside the image
                        log.warning("analysis of %s failed", im.name, exc_info=True)
                        failures[im.digest] = _("could not be analysed ({error}: {message})").format(
                            error=type(exc).__name__, message=exc)
            if progress:
                progress(min(start + batch_size, len(unique)), len(unique))
        out = []
        for im in images:
            if failures is not None and im.digest in failures:
                continue
            analysis = self._get((model_key, im.digest))
            if analysis is None:  # evicted meanwhile by a flood of other images: compute it again
                [analysis] = analyse_images(loaded, [prepare(_decoded(im))], [im.name])
                analysis = read_only(analysis)
            out.append(dataclasses.replace(analysis, name=im.name))
        return out


def zoom_digest(digest: str, factor: float) -> str:
    """Cache key of an image enlarged by ``factor``."""
    return f"{digest}@zoom{factor:g}"


def _continued(progress: Progress, base: int, total: int) -> Progress:
    """``progress`` of one zoom, continuing the bar where the ``base`` images before it ended."""
    return lambda done, _n: progress(base + done, total)


def cached_sweep(cache: AnalysisCache, model: ServedModel, images: Sequence[DecodedImage],
                 scales: Sequence[float], progress: Progress | None = None) -> ScaleSweep:
    """A ScaleSweep (as ``attnviz.analysis.scale.scale_sweep`` computes it) from cached analyses: only
    (image, zoom) pairs never seen before are zoomed and go through the model."""
    analyses = {}
    total = len(images) * len(scales)
    for i, s in enumerate(scales):
        keyed = [DecodedImage(name=im.name, digest=zoom_digest(im.digest, s), image=im.image) for im in images]
        # One bar over all zooms: this zoom's progress continues where the previous ones ended.
        report = _continued(progress, i * len(images), total) if progress else None
        analyses[s] = cache.analyse(model, keyed, progress=report, prepare=functools.partial(zoom, factor=s))
    return ScaleSweep(scales=list(scales), gates=list(model.loaded.gates), analyses=analyses)
