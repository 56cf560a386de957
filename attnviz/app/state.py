"""What every page shares: the process-wide caches and the session's context (model and images).

One caching mechanism: Streamlit's ``st.cache_resource``, shared by every session of the server.
Its arguments are hashed by what identifies them (a served model by its request's key, an image by
the sha256 of its bytes), so no page passes cache keys by hand. Analyses go through one
``AnalysisCache`` (itself a cached resource) because it batches new images and reports progress.
"""
from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

import streamlit as st

from ..analysis.attribution import (ChannelAttribution, GradCamResult, KnockoutResult, channel_attribution, gradcam,
                                   knockout)
from ..analysis.inference import ImageAnalysis
from ..profiles.profile import Profile, bundled_profile_path, read_profile
from ..serving import DataRoot, JobQueue, SharedResults, server_limits
from ..serving.analyses import AnalysisCache
from ..serving.inputs import DecodedImage, ImageInput, decode
from ..serving.models import RANDOM, ModelRequest, ServedModel, load_request
from ..analysis.walkthrough import Walkthrough, walkthrough
from ..i18n import _, current_language
from ..models.zoo import WeightsBlob
from .cache_keys import DecodeKey, PhotoKey
from .render import analyse

# Annotated with str | type keys: st.cache_resource's hash_funcs parameter is an invariant dict type.
HASH: dict[str | type, Callable[[Any], Any]] = {ServedModel: lambda m: m.key, DecodedImage: lambda im: im.digest}


def served_model(request: ModelRequest, blob: WeightsBlob | None = None) -> ServedModel:
    """One model per request in the process; uploaded weights are keyed by their sha256. The
    spinner is here, not in the cache's decorator, so that its text is in the reader's language."""
    with st.spinner(_("Loading the model …")):
        return _served_model(request, blob)


@st.cache_resource(show_spinner=False, max_entries=4)
def _served_model(request: ModelRequest, _blob: WeightsBlob | None = None) -> ServedModel:
    return ServedModel(request, load_request(request, _blob))


@st.cache_resource
def analysis_cache() -> AnalysisCache:
    return AnalysisCache()


def decoded(name: str, digest: str, data: bytes, label: str | None = None) -> DecodedImage:
    """Decoded once per (name, content) into bounded copies (at most about 2 MB an image, so the
    cache holds at most about 100 MB whatever the uploads declare); nothing is pickled. A file
    that cannot be decoded is told in the reader's language: its reason is cached per language
    (a failure holds no pixels), the pictures once for every language. ``label`` (the true class
    of a sample photo) is put back on the cached decode: the vocabulary note needs it.

    The caches are keyed by ``DecodeKey`` objects alone (name and sha256 of the bytes, and the
    language where a message is kept): two visitors' ``photo.jpg`` with different bytes are two
    keys, whatever else the cached functions receive."""
    photo = PhotoKey(name, digest)
    image = _decoded(DecodeKey(photo), data)
    image = _refused(DecodeKey(photo, current_language()), data) if image.error else image
    if image.notes:  # what the decoder ignored (a damaged EXIF orientation), in the reader's language
        image = replace(image, notes=_notes(DecodeKey(photo, current_language()), data))
    return image if image.label == label else replace(image, label=label)


@st.cache_resource(max_entries=48, show_spinner=False)
def _decoded(key: DecodeKey, _data: bytes) -> DecodedImage:
    return decode(ImageInput(key.photo.name, _data))


@st.cache_resource(max_entries=48, show_spinner=False)
def _refused(key: DecodeKey, _data: bytes) -> DecodedImage:
    return decode(ImageInput(key.photo.name, _data))


@st.cache_resource(max_entries=48, show_spinner=False)
def _notes(key: DecodeKey, _data: bytes) -> tuple[str, ...]:
    return decode(ImageInput(key.photo.name, _data)).notes  # the notes only: no pixels kept per language


@st.cache_resource
def profile_store() -> SharedResults:
    """Profiles computed in this process, shared by every session: (model, source, limit) -> Profile.
    Two sessions asking for the same profile compute it once."""
    return SharedResults(max_entries=16)


@st.cache_resource
def chart_store() -> SharedResults:
    """Charts built once and shared by every session, by ``ChartKey`` (``attnviz.app.chart_cache``):
    about 10–40 KB of JSON a chart, so at most about 40 MB."""
    return SharedResults(max_entries=1024)


@st.cache_resource
def job_queue() -> JobQueue:
    """Folder profiles running at once in this server (ATTNVIZ_HEAVY_JOBS, default 1)."""
    return JobQueue(server_limits().heavy_jobs)


def shipped_profile_path(model: ServedModel) -> str | None:
    """The file of the class profile that ships with a bundled model; None otherwise."""
    path = bundled_profile_path(model.loaded.name) if model.request.mode != RANDOM else None
    return str(path) if path is not None else None


def shipped_profile(model: ServedModel) -> Profile | None:
    """The class profile that ships with a bundled model, checked against it; None otherwise."""
    path = shipped_profile_path(model)
    return _profile_file(path, model) if path is not None else None


@st.cache_resource(max_entries=8, show_spinner=False, hash_funcs=HASH)
def _profile_file(path: str, model: ServedModel) -> Profile:
    return read_profile(path, model.loaded)


@st.cache_resource(max_entries=64, show_spinner=False, hash_funcs=HASH)
def walkthrough_of(model: ServedModel, image: DecodedImage, gate: str) -> Walkthrough:
    return walkthrough(model.loaded, image.require_image(), gate)


@st.cache_resource(max_entries=128, show_spinner=False, hash_funcs=HASH)
def channel_picture(model: ServedModel, path: str, gate: str, channel: int, with_map: bool):
    """A dataset image as the model sees it, with where ``channel`` is active painted red."""
    import numpy as np
    from PIL import Image

    from ..analysis.attribution import channel_map
    from ..images.loading import load_views

    image = load_views(path).model
    heat, seen = channel_map(model.loaded, image, gate, channel)
    if not with_map:
        return seen
    pixels = np.asarray(seen, dtype=np.float32)
    alpha = 0.6 * heat[..., None]
    red = np.array([230.0, 30.0, 30.0], dtype=np.float32)
    return Image.fromarray((pixels * (1 - alpha) + red * alpha).clip(0, 255).astype(np.uint8))


@dataclass
class Attribution:
    cam: GradCamResult
    channels: ChannelAttribution
    knocked: KnockoutResult


def attribution_of(model: ServedModel, image: DecodedImage, gate: str, target: int | None,
                   knocked: tuple[str, ...], analysis: ImageAnalysis) -> Attribution:
    """Gradients need passes of their own; the plain forward pass is the analysis already made
    (``analysis``, from the shared analysis cache), so the image is not run again for it."""
    with st.spinner(_("Computing Grad-CAM, attribution and the knock-out …")):
        return _attribution_of(model, image, gate, target, knocked, analysis)


@st.cache_resource(max_entries=64, show_spinner=False, hash_funcs=HASH)
def _attribution_of(model: ServedModel, image: DecodedImage, gate: str, target: int | None,
                    knocked: tuple[str, ...], _analysis: ImageAnalysis) -> Attribution:
    loaded, pil = model.loaded, image.require_image()
    return Attribution(gradcam(loaded, pil, gate, target, analysis=_analysis),
                       channel_attribution(loaded, pil, gate, target, analysis=_analysis),
                       knockout(loaded, pil, list(knocked), analysis=_analysis))


def data_root() -> DataRoot | None:
    """The operator's data root (ATTNVIZ_DATA_ROOT); None by default: visitors see no server folder."""
    root = server_limits().data_root
    return DataRoot(root) if root is not None else None


@dataclass
class Context:
    """What every page gets from the sidebar."""

    model: ServedModel
    images: list[DecodedImage]

    @property
    def loaded(self):
        return self.model.loaded

    @property
    def untrained(self) -> bool:
        return self.model.untrained

    @property
    def good_images(self) -> list[DecodedImage]:
        return [im for im in self.images if im.ok]

    def analysed(self, images: list[DecodedImage] | None = None) -> list[tuple[DecodedImage, ImageAnalysis]]:
        """The readable images (default: all of the session's) that could be analysed, each with
        its analysis, from the shared cache."""
        return analyse(analysis_cache(), self.model, self.images if images is None else images)


def query_choice(key: str, options: list[str], default: int = 0) -> int:
    """Index of the option named by the page URL's ``?key=...``, else ``default``."""
    wanted = st.query_params.get(key)
    return options.index(wanted) if wanted in options else default


def remember(key: str, value: str | None) -> None:
    """Keep a choice in the page URL (``?key=value``), so that the link can be shared."""
    if value is None:
        st.query_params.pop(key, None)
    elif st.query_params.get(key) != value:
        st.query_params[key] = value


_CURRENT: ContextVar[Context | None] = ContextVar("attnviz_page_context", default=None)


def set_context(ctx: Context | None) -> None:
    """What the sidebar made of this run, for the page that runs next (``app.py`` sets it)."""
    _CURRENT.set(ctx)


def current_context() -> Context | None:
    """This run's context, for a page script; None outside a run of the app (e.g. on import)."""
    return _CURRENT.get()


def gate_label(ctx: Context):
    """Format of a gate name in pickers: 'SE_2_1 — stage 2, block 1' (the papers' naming).

    The labels are made now, in this run's language: Streamlit may call a picker's format
    function again after the run has ended, when the run's language is no longer set."""
    labels = {g.name: g.name if g.stage is None else
              _("{name} — stage {stage}, block {block}").format(name=g.name, stage=g.stage, block=g.block)
              for g in ctx.loaded.gates}
    return lambda name: labels.get(name, name)
