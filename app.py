"""attnviz: see channel attention in CNNs. Run with ``streamlit run app.py``.

This file holds widgets only; every computation lives in ``attnviz`` (usable from notebooks and
the CLI). Data flows one way: model -> images -> cached analyses -> charts.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from attnviz.errors import ModelLoadError
from attnviz.images import list_image_files
from attnviz.inference import ImageAnalysis
from attnviz.ui import explore
from attnviz.ui.cache import AnalysisCache
from attnviz.ui.inputs import DecodedImage, ImageInput, decode, read_files, sample_label, samples_folder, unique_names
from attnviz.ui.models import FILE, PRETRAINED, RANDOM, WEIGHT_MODES, ModelRequest, is_untrained, load_request, model_choices
from attnviz.ui.render import analyse, guard, show_bad_files, show_chart, show_charts
from attnviz.zoo import LoadedModel, bundled_dir, default_model_name

APP_DIR = Path(__file__).resolve().parent

st.set_page_config(page_title="attnviz — channel attention", page_icon="🔎", layout="wide")


# ---------------------------------------------------------------- caches (shared by all sessions)


@st.cache_resource(show_spinner="Loading the model …", max_entries=4)
def get_model(request: ModelRequest) -> LoadedModel:
    return load_request(request)


@st.cache_resource
def get_analysis_cache() -> AnalysisCache:
    return AnalysisCache()


@st.cache_data(ttl=600, show_spinner=False)
def get_choices(assets: str):
    """The picker's entries; keyed on the assets folder, which decides the bundled models."""
    return model_choices()


@st.cache_data(max_entries=256, show_spinner=False)
def decode_cached(name: str, digest: str, _data: bytes) -> DecodedImage:
    return decode(ImageInput(name, _data))


@st.cache_data(show_spinner=False)
def list_samples(folder: str) -> list[Path]:
    return list_image_files(folder)


@dataclass
class Context:
    """What every page gets from the sidebar."""

    loaded: LoadedModel
    request: ModelRequest
    images: list[DecodedImage]
    image_format: str

    @property
    def untrained(self) -> bool:
        return is_untrained(self.loaded)

    @property
    def good_images(self) -> list[DecodedImage]:
        return [im for im in self.images if im.ok]

    def analyses(self) -> list[ImageAnalysis]:
        return analyse(get_analysis_cache(), self.loaded, self.request.key, self.images)


# ---------------------------------------------------------------- sidebar


def pick_model() -> ModelRequest | None:
    choices = get_choices(str(bundled_dir()))
    names = [c.name for c in choices]
    labels = {c.name: c.label for c in choices}
    default = default_model_name()
    if default is None:
        st.sidebar.info("No bundled model is installed. Train one with `attnviz train` (see the "
                        "README), or pick a timm model below.")
    index = names.index(default) if default in names else 0
    name = st.sidebar.selectbox("Model", names, index=index, format_func=lambda n: labels[n],
                                key="model", help="Bundled models work offline; timm models need "
                                "their ImageNet weights (downloaded once) or a local weights file.")
    choice = next(c for c in choices if c.name == name)
    if choice.description:
        st.sidebar.caption(choice.description)
    if choice.source == "bundled":
        return ModelRequest(name)
    mode = st.sidebar.radio("Weights", list(WEIGHT_MODES), format_func=WEIGHT_MODES.get,
                            key=f"weights_mode_{name}")
    if mode == FILE:
        path = st.sidebar.text_input("Weights file (.safetensors or .pth)", key=f"weights_file_{name}",
                                     placeholder="/path/to/weights.safetensors")
        if not path.strip():
            st.sidebar.caption("Give the path of a weights file trained for this architecture.")
            return None
        return ModelRequest(name, FILE, path.strip())
    return ModelRequest(name, mode)


def pick_images() -> list[DecodedImage]:
    uploads = st.sidebar.file_uploader("Images (drag and drop one or many)", accept_multiple_files=True,
                                       key="uploads", help="JPEG, PNG, WebP, BMP, TIFF or GIF")
    items = [ImageInput(f.name, f.getvalue()) for f in uploads or []]
    folder = samples_folder(APP_DIR)
    if folder is not None:
        files = list_samples(str(folder))
        labels = {str(p): sample_label(p) for p in files}
        st.session_state["_example"] = str(files[0])
        chosen = st.sidebar.multiselect(f"Sample images ({len(files)} in {folder.name})", list(labels),
                                        format_func=labels.get, key="samples")
        items += read_files(Path(p) for p in chosen)
    names = unique_names(item.name for item in items)
    return [decode_cached(name, item.digest, item.data) for name, item in zip(names, items)]


def load_once(request: ModelRequest) -> LoadedModel | None:
    """The shared model, or None after showing why it cannot be loaded. A failure is remembered
    for the session, so reruns do not retry a download that just failed."""
    failures = st.session_state.setdefault("_load_failures", {})
    if request.key not in failures:
        try:
            return get_model(request)
        except ModelLoadError as exc:
            failures[request.key] = str(exc)
    st.error(f"**{request.name} could not be loaded.** {failures[request.key]}")
    if request.mode == PRETRAINED:
        st.info("To explore the architecture anyway, choose **random weights (architecture only)** "
                "under *Weights* in the sidebar; its results are labelled untrained.")
    if st.button("Try again", key="retry_load"):
        failures.pop(request.key, None)
        st.rerun()
    return None


def sidebar() -> Context | None:
    st.sidebar.title("attnviz")
    st.sidebar.caption("Channel attention in CNNs, made visible")
    page = st.sidebar.radio("Page", list(PAGES), key="page")
    st.session_state["_page"] = page
    request = pick_model()
    images = pick_images()
    image_format = st.sidebar.radio("Chart image format (camera icon)", ["png", "svg"], horizontal=True,
                                    key="image_format")
    if request is None:
        st.info("Choose a weights file for this architecture in the sidebar.")
        return None
    loaded = load_once(request)
    if loaded is None:
        return None
    st.sidebar.markdown(f"**Device:** {loaded.device_label}")
    if is_untrained(loaded):
        st.sidebar.warning("Untrained: random weights. The charts show the architecture, not "
                           "learned attention.")
    return Context(loaded, request, images, image_format)


# ---------------------------------------------------------------- pages


def use_example() -> None:
    st.session_state["samples"] = [st.session_state["_example"]]


def no_images_hint() -> None:
    st.info("Upload photos in the sidebar (drag and drop, one or many), or pick sample images.")
    if "_example" in st.session_state:
        st.button("Show an example image", on_click=use_example, type="primary", key="example")


def show_predictions(ctx: Context, analyses: list[ImageAnalysis]) -> None:
    """Each image beside its top-5, two images to a row."""
    per_row = 1 if len(analyses) == 1 else 2
    for start in range(0, len(analyses), per_row):
        cols = st.columns([1, 2] * per_row)
        pairs = zip(ctx.good_images[start:start + per_row], analyses[start:start + per_row])
        for i, (im, analysis) in enumerate(pairs):
            cols[2 * i].image(im.image, caption=im.name, width="stretch")
            with cols[2 * i + 1]:
                show_chart(explore.prediction_chart(ctx.loaded, analysis), ctx.image_format, ctx.untrained)


def explore_page(ctx: Context) -> None:
    st.header("Explore an image")
    show_bad_files(ctx.images)
    if not ctx.good_images:
        no_images_hint()
        return
    analyses = ctx.analyses()
    loaded = ctx.loaded
    options = explore.ExploreOptions()
    with st.expander("Display options", expanded=False):
        cols = st.columns(3)
        se = explore.excitation.se_gates(loaded.gates)
        sk = explore.selection.sk_gates(loaded.gates)
        splat = explore.split.split_gates(loaded.gates)
        if se:
            names = [g.name for g in se]
            options.se_block = cols[0].selectbox("SE block shown as bars", names, index=len(names) - 1)
            options.sort_channels = cols[1].checkbox("Sort its channels by excitation")
            options.distribution = cols[2].radio("Distribution", ["violin", "box"], horizontal=True)
        if sk:
            names = [g.name for g in sk]
            options.sk_unit = cols[0].selectbox("SK unit for the histogram of b", names, index=len(names) - 1)
        if splat:
            names = [g.name for g in splat]
            options.split_unit = cols[1].selectbox("Split attention unit", names, index=len(names) - 1)
    side_by_side = len(analyses) > 1 and st.radio(
        "Several images", ["overlay", "side by side"], horizontal=True, key="layout") == "side by side"

    show_predictions(ctx, analyses)
    if side_by_side:
        cols = st.columns(min(len(analyses), 3))
        for i, analysis in enumerate(analyses):
            with cols[i % len(cols)]:
                show_charts(explore.explore_charts(loaded, [analysis], options), ctx.image_format,
                            ctx.untrained, key_prefix=f"{i}_")
    else:
        show_charts(explore.explore_charts(loaded, analyses, options), ctx.image_format, ctx.untrained)


PAGES = {
    "Explore an image": explore_page,
}


def main() -> None:
    ctx = sidebar()
    if ctx is None:
        return
    page = PAGES[st.session_state["_page"]]
    guard(lambda: page(ctx))


guard(main)
