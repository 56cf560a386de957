"""attnviz: see channel attention in CNNs. Run with ``streamlit run app.py``.

This file holds widgets only; every computation lives in ``attnviz`` (usable from notebooks and
the CLI). Data flows one way: model -> images -> cached analyses -> charts.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from attnviz.devices import configure_cpu_threads
from attnviz.errors import ModelLoadError
from attnviz.figures.excitation import se_gates
from attnviz.figures.selection import sk_gates
from attnviz.figures.split import split_gates
from attnviz.images import list_image_files, load_views
from attnviz.memory import limit_heap_retention
from attnviz.inference import ImageAnalysis
from attnviz.profiling import profile_dataset, profile_images
from attnviz.attribution import channel_attribution, gradcam, knockout
from attnviz.ui import attribution, compare, explore, learn, scale
from attnviz.walkthrough import walkthrough
from attnviz.serving import DataRoot, JobQueue, SharedResults, read_zip_classes, server_limits
from attnviz.ui.cache import AnalysisCache
from attnviz.ui.inputs import (DecodedImage, ImageInput, decode, image_digest, read_files, sample_label, samples_folder,
                               session_caps, unique_names)
from attnviz.ui.models import (FILE, PRETRAINED, RANDOM, WEIGHT_MODES, ModelRequest, is_untrained, load_request,
                               model_choices, upload_key)
from attnviz.ui.render import analyse, guard, show_bad_files, show_chart, show_charts, show_image
from attnviz.zoo import LoadedModel, WeightsBlob, bundled_dir, default_model_name

APP_DIR = Path(__file__).resolve().parent
configure_cpu_threads()  # interactive latency: fewer threads than cores is faster on small machines
limit_heap_retention()  # large decodes give their memory back instead of holding the peak
LIMITS = server_limits()

st.set_page_config(page_title="attnviz — channel attention", page_icon="🔎", layout="wide")


# ---------------------------------------------------------------- caches (shared by all sessions)


@st.cache_resource(show_spinner="Loading the model …", max_entries=4)
def get_model(request: ModelRequest, _blob: WeightsBlob | None = None) -> LoadedModel:
    """One model per request in the process; uploaded weights are keyed by their sha256."""
    return load_request(request, _blob)


@st.cache_resource
def get_analysis_cache() -> AnalysisCache:
    return AnalysisCache()


@st.cache_data(ttl=600, show_spinner=False)
def get_choices(assets: str):
    """The picker's entries; keyed on the assets folder, which decides the bundled models."""
    return model_choices()


@st.cache_resource(max_entries=48, show_spinner=False)
def decode_cached(name: str, digest: str, _data: bytes) -> DecodedImage:
    """Decoded once per (name, content) into bounded copies (at most about 2 MB an image, so the
    cache holds at most about 100 MB whatever the uploads declare); a resource cache, so nothing
    is pickled."""
    return decode(ImageInput(name, _data))


def data_root() -> DataRoot | None:
    """The operator's data root (ATTNVIZ_DATA_ROOT); None by default: visitors see no server folder."""
    return DataRoot(LIMITS.data_root) if LIMITS.data_root is not None else None


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

    def analysed(self) -> list[tuple[DecodedImage, ImageAnalysis]]:
        """The readable images that could be analysed, each with its analysis."""
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
        return pick_weights_file(name)
    return ModelRequest(name, mode)


def pick_weights_file(name: str) -> ModelRequest | None:
    """A weights file: uploaded, or one of the data root's (never a typed server path)."""
    root = data_root()
    weights = root.weights_files() if root is not None else []
    if weights:
        chosen = st.sidebar.selectbox("Weights file on the server", [None, *weights], key=f"weights_root_{name}",
                                      format_func=lambda w: "— upload one instead —" if w is None else w)
        if chosen is not None:
            return ModelRequest(name, FILE, str(root.resolve(chosen)))
    upload = st.sidebar.file_uploader("Weights file (.safetensors, .pth or .pt)", type=["safetensors", "pth", "pt"],
                                      key=f"weights_upload_{name}", max_upload_size=LIMITS.weights_mb)
    if upload is None:
        st.sidebar.caption(f"Upload a weights file trained for this architecture (up to {LIMITS.weights_mb} MB).")
        return None
    blob = WeightsBlob(upload.name, upload.getvalue())
    st.session_state["_weights_blob"] = blob
    return ModelRequest(name, FILE, upload_key(blob))


def pick_images() -> list[DecodedImage]:
    uploads = st.sidebar.file_uploader(
        "Images (drag and drop one or many)", accept_multiple_files=True, key="uploads",
        max_upload_size=LIMITS.image_mb,
        help=f"JPEG, PNG, WebP, BMP, TIFF or GIF; up to {LIMITS.images_per_session} images and "
             f"{LIMITS.upload_mb_per_session} MB in all")
    items = [ImageInput(f.name, f.getvalue()) for f in uploads or []]
    folder = samples_folder(APP_DIR)
    if folder is not None:
        files = list_samples(str(folder))
        labels = {str(p): sample_label(p) for p in files}
        st.session_state["_example"] = str(files[0])
        chosen = st.sidebar.multiselect(f"Sample images ({len(files)} in {folder.name})", list(labels),
                                        format_func=labels.get, key="samples")
        items += read_files(Path(p) for p in chosen)
    items = [ImageInput(name, item.data) for name, item in zip(unique_names(i.name for i in items), items)]
    kept, refused = session_caps(items, LIMITS.images_per_session, LIMITS.upload_bytes_per_session)
    return [decode_cached(item.name, item.digest, item.data) for item in kept] + refused


def load_once(request: ModelRequest) -> LoadedModel | None:
    """The shared model, or None after showing why it cannot be loaded. A failure is remembered
    for the session, so reruns do not retry a download that just failed."""
    failures = st.session_state.setdefault("_load_failures", {})
    if request.key not in failures:
        try:
            blob = st.session_state.get("_weights_blob") if request.weights and request.weights.startswith("upload:") else None
            return get_model(request, blob)
        except ModelLoadError as exc:
            failures[request.key] = str(exc)
    st.error(f"**{request.name} could not be loaded.** {failures[request.key]}")
    if request.mode == PRETRAINED:
        st.info("In this app: under *Weights* in the sidebar, choose **local weights file** to use a "
                "file you have, or **random weights (architecture only)** to explore the architecture "
                "anyway (its results are labelled untrained).")
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
    image_format = st.sidebar.radio("Chart image format", ["png", "svg"], horizontal=True, key="image_format",
                                    help="The camera icon above each chart saves it in this format; "
                                         "the buttons below a chart save it as HTML and its data as CSV.")
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


def images_ready(ctx: Context) -> bool:
    """Every page's image preamble: list the refused files, and hint at uploads when none is good."""
    show_bad_files(ctx.images)
    if not ctx.good_images:
        no_images_hint()
        return False
    return True


def show_predictions(ctx: Context, analysed: list[tuple[DecodedImage, ImageAnalysis]]) -> None:
    """Each image beside its top-5, two images to a row."""
    per_row = 1 if len(analysed) == 1 else 2
    for start in range(0, len(analysed), per_row):
        cols = st.columns([1, 2] * per_row)
        for i, (im, analysis) in enumerate(analysed[start:start + per_row]):
            with cols[2 * i]:
                show_image(im)
            with cols[2 * i + 1]:
                show_chart(explore.prediction_chart(ctx.loaded, analysis), ctx.image_format, ctx.untrained)


def explore_page(ctx: Context) -> None:
    st.header("Explore an image")
    if not ctx.loaded.gates:
        st.info(f"**{ctx.loaded.name}** has no channel attention gate (SE, SK or split attention) "
                "that attnviz recognises; choose another model.")
        return
    if not images_ready(ctx):
        return
    analysed = ctx.analysed()
    if not analysed:
        return
    analyses = [analysis for _, analysis in analysed]
    loaded = ctx.loaded
    options = explore.ExploreOptions()
    with st.expander("Display options", expanded=False):
        cols = st.columns(3)
        se, sk, splat = se_gates(loaded.gates), sk_gates(loaded.gates), split_gates(loaded.gates)
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

    show_predictions(ctx, analysed)
    if side_by_side:
        cols = st.columns(min(len(analyses), 3))
        for i, analysis in enumerate(analyses):
            with cols[i % len(cols)]:
                show_charts(explore.explore_charts(loaded, [analysis], options), ctx.image_format,
                            ctx.untrained, key_prefix=f"{i}_", columns=1)
    else:
        show_charts(explore.explore_charts(loaded, analyses, options), ctx.image_format, ctx.untrained)


# ---------------------------------------------------------------- page 2


@st.cache_resource
def get_profile_store() -> SharedResults:
    """Profiles computed in this process, shared by every session: (model, source, limit) -> Profile.
    Two sessions asking for the same profile compute it once."""
    return SharedResults(max_entries=16)


@st.cache_resource
def get_job_queue() -> JobQueue:
    """Folder profiles running at once in this server (ATTNVIZ_HEAVY_JOBS, default 1)."""
    return JobQueue(LIMITS.heavy_jobs)


@st.cache_resource(max_entries=8, show_spinner=False)
def seconds_per_image(model_key: str, _loaded: LoadedModel) -> float:
    """This server's time for one image through the model, measured once on a small batch."""
    import time

    from PIL import Image

    images = [Image.new("RGB", (_loaded.input_size,) * 2, (128, 128, 128))] * 4
    profile_images(_loaded, images[:1], [0], ["x"])  # warm-up
    started = time.perf_counter()
    profile_images(_loaded, images, [0] * len(images), ["x"])
    return (time.perf_counter() - started) / len(images)


def profile_from_images(ctx: Context) -> compare.Profile | None:
    analysed = ctx.analysed()
    if not analysed:
        if not ctx.good_images:
            no_images_hint()
        return None
    st.caption("Each image counts for the class in its *label* column: the predicted class by "
               "default; type another label to correct it.")
    table = st.data_editor(
        {"image": [im.name for im, _ in analysed],
         "label": [a.top(ctx.loaded.class_names, 1)[0]["label"] for _, a in analysed]},
        disabled=["image"], hide_index=True, key="labels", width="stretch")
    indices, names = compare.labelled_classes(table["label"])
    images = [im for im, _ in analysed]
    key = (ctx.request.key, tuple(im.digest for im in images), tuple(table["label"]))
    return get_profile_store().get(key, lambda: profile_images(
        ctx.loaded, [im.image for im in images], indices, names, names=[im.name for im in images]))


def bounded_loader(read=None):
    """Profile samples decoded into bounded copies (the model view), as uploads are."""
    def load(sample, name: str):
        return load_views(read(str(sample)) if read is not None else sample, name).model
    return load


def class_folder_source(ctx: Context, limit: int):
    """(key, ProfileData, loader, data name, refused entries) of the chosen zip or data-root folder,
    or None while nothing is chosen."""
    from attnviz.profiling.datasets import ProfileData
    from attnviz.classes import folder_class_name

    root = data_root()
    folders = root.class_folders() if root is not None else []
    origin = "zip"
    if folders:
        origin = st.radio("Class folders from", ["zip", "root"], horizontal=True, key="folder_origin",
                          format_func={"zip": "a zip I upload", "root": "a folder on this server"}.get)
    if origin == "root":
        chosen = st.selectbox("Folder (one subfolder per class)", folders, key="root_folder")
        samples, classes, refused = root.image_samples(chosen, limit)
        data = ProfileData(root.resolve(chosen), samples, classes, [folder_class_name(c) for c in classes])
        return ("root", chosen, limit), data, bounded_loader(), chosen, refused
    upload = st.file_uploader("A zip of class folders (<class>/<image>)", type=["zip"], key="class_zip",
                              max_upload_size=LIMITS.weights_mb,
                              help=f"Read in memory, never unpacked on the server; at most "
                                   f"{LIMITS.zip_entries:,} entries and {LIMITS.image_mb} MB per image.")
    if upload is None:
        st.caption("Zip a folder that holds one subfolder per class, each with its images, and drop it here.")
        return None
    data_bytes = upload.getvalue()
    folder = read_zip_classes(data_bytes, upload.name, LIMITS, limit)
    data = ProfileData(Path(upload.name), [(Path(e), k) for e, k in folder.entries], folder.classes,
                       [folder_class_name(c) for c in folder.classes])
    key = ("zip", image_digest(data_bytes), limit)
    return key, data, bounded_loader(folder.read), upload.name, [f"{s['file']}: {s['reason']}" for s in folder.skipped]


def profile_from_folder(ctx: Context) -> compare.Profile | None:
    limit = st.number_input(f"Images per class (at most {LIMITS.per_class_images})", 1, LIMITS.per_class_images,
                            min(20, LIMITS.per_class_images), step=10, key="per_class")
    source = class_folder_source(ctx, int(limit))
    if source is None:
        return None
    source_key, data, loader, data_name, refused = source
    for line in refused:
        st.warning(f"**{line}**", icon="⚠️")
    key = (ctx.request.key, *source_key)
    store = get_profile_store()
    if key not in store:
        n = len(data)
        estimate = n * seconds_per_image(ctx.request.key, ctx.loaded)
        st.caption(f"{n} images in {len(data.class_names)} classes; on this server about "
                   f"{max(1, round(estimate))} s of computing.")
        if not store.in_flight(key) and not st.button("Compute the class profile", type="primary",
                                                      key="compute_profile"):
            return None
        note = st.empty()
        bar = st.progress(0.0, text="Waiting for the server …")

        def waiting(ahead: int) -> None:
            note.info(f"The server computes {LIMITS.heavy_jobs} profile(s) at a time; "
                      f"{ahead} job(s) ahead of yours. Yours starts as soon as they finish.")

        def compute():
            with get_job_queue().slot(on_wait=waiting):
                note.empty()
                return profile_dataset(
                    ctx.loaded, data, per_class_limit=int(limit), workers=0, batch_size=16, progress=False,
                    loader=loader, data_name=data_name,
                    on_progress=lambda done, total: bar.progress(done / max(total, 1),
                                                                 text=f"Profiled {done} of {total} images"))

        if store.in_flight(key):
            bar.progress(0.0, text="Another visitor is computing this same profile; it is shared when done …")
        store.get(key, compute)
        bar.empty()
        note.empty()
    profile = store.get(key)
    for item in profile.skipped:
        st.warning(f"**{item.get('file', item)}** was skipped: {item.get('reason', '')}", icon="⚠️")
    return profile


def profile_from_file(ctx: Context) -> compare.Profile | None:
    shipped = compare.bundled_profile_path(ctx.loaded.name) if ctx.request.mode != RANDOM else None
    with st.expander("Use another saved profile"):
        upload = st.file_uploader("A class profile (.safetensors, made with `attnviz profile`)",
                                  type=["safetensors"], key="profile_upload", max_upload_size=LIMITS.weights_mb)
    if upload is not None:
        return compare.profile_from_bytes(upload.getvalue(), upload.name, ctx.loaded)
    if shipped is None:
        st.info(f"No class profile ships with **{ctx.loaded.name}**. Upload one made with "
                f"`attnviz profile DATA --model {ctx.loaded.name}`, or choose *labelled images* or "
                "*folders of class images* above.")
        return None
    st.caption(f"Profile shipped with the model: `{shipped.name}`")
    return cached_profile(str(shipped), ctx.request.key, ctx.loaded)


@st.cache_resource(max_entries=8, show_spinner=False)
def cached_profile(path: str, model_key: str, _loaded: LoadedModel) -> compare.Profile:
    return compare.read_profile(path, _loaded)


PROFILE_SOURCES = {"file": "a saved class profile", "images": "labelled images",
                   "folder": "folders of class images"}


def compare_page(ctx: Context) -> None:
    st.header("Compare classes")
    st.caption("The SENet paper's *role of excitation*: does a block treat every class alike, "
               "or does it respond differently to each class?")
    source = st.radio("Classes from", list(PROFILE_SOURCES), format_func=PROFILE_SOURCES.get,
                      horizontal=True, key="class_source")
    if source == "images":
        show_bad_files(ctx.images)
    profile = {"file": profile_from_file, "images": profile_from_images, "folder": profile_from_folder}[source](ctx)
    if profile is None:
        return
    gates = [g for g in ctx.loaded.gates if g.name in profile.gate_names]
    gate_names = [g.name for g in gates]
    scale_index = 0
    if len(profile.scales) > 1:
        scale = st.select_slider("Scale (zoom) of the profiled images", profile.scales, key="profile_scale",
                                 format_func=lambda s: f"{s:g}×")
        scale_index = profile.scale_index(scale)
    present = compare.present_classes(profile, scale_index)
    names = profile.class_names
    left, right = st.columns(2)
    blocks = left.multiselect("Blocks (the paper: last of each stage, all of the last stage)", gate_names,
                              default=compare.paper_default_blocks(gates), key="compare_blocks")
    classes = right.multiselect("Classes", present, default=present[:10], format_func=lambda k: names[k],
                                key=f"compare_classes_{len(names)}")
    with st.expander("Display options"):
        cols = st.columns(4)
        band = cols[0].selectbox("±std band for", [None, *classes], key="band",
                                 format_func=lambda k: "no class" if k is None else names[k])
        n_channels = cols[1].number_input("Channels per block", 5, 2048, compare.PAPER_CHANNELS, key="n_channels")
        sort = cols[2].checkbox("Sort channels by the all-class mean", key="sort_channels_compare")
        centred = cols[3].checkbox("Similarity of class means minus the all-class mean", key="centred")
        sim_block = st.selectbox("Block for the similarity matrix", blocks or gate_names,
                                 index=len(blocks or gate_names) - 1, key="sim_block")
    counts = profile.counts(scale_index)
    st.caption(f"{int(counts[classes].sum()) if classes else 0} images in {len(classes)} classes "
               f"(profile of {profile.model}{', ' + profile.data if profile.data else ''}).")
    options = compare.CompareOptions(blocks=blocks, classes=classes, scale_index=scale_index, band_class=band,
                                     channels=int(n_channels), sort=sort, similarity_block=sim_block,
                                     centred=centred)
    show_charts(compare.compare_charts(profile, options), ctx.image_format, ctx.untrained, key_prefix="cmp_")


# ---------------------------------------------------------------- page 3


def scale_page(ctx: Context) -> None:
    st.header("Scale experiment (SK)")
    st.caption("SKNet's experiment: enlarge the object (centre crop, then resize back) and watch "
               "the SK units move their attention toward the larger kernel.")
    units = [g for g in ctx.loaded.gates if g.paths >= 2]
    if not units:
        st.info(f"**{ctx.loaded.name}** has no SK unit (nor split attention): choose an SK model, "
                "such as the bundled SK model or `skresnet18`, in the sidebar.")
        return
    if images_ready(ctx):
        left, right = st.columns([2, 1])
        extra = left.slider("Zoom", 1.0, 3.0, 1.25, 0.05, key="zoom", format="%.2f×",
                            help="Added to the paper's fixed zooms 1.0×, 1.5× and 2.0×")
        names = [g.name for g in units]
        unit = right.selectbox("Unit for the per-channel view", names, index=0, key="scale_unit")
        scales = scale.sweep_scales(extra)
        preview = ctx.good_images[0]
        cols = st.columns(len(scales))
        for col, s in zip(cols, scales):
            col.image(scale.zoom(preview.image, s), caption=f"{preview.name} at {s:g}×", width="stretch")
        sweep = scale_sweep_with_progress(ctx, scales)
        show_charts(scale.scale_charts(sweep, unit), ctx.image_format, ctx.untrained, key_prefix="scale_")
    shipped = compare.bundled_profile_path(ctx.loaded.name) if ctx.request.mode != RANDOM else None
    if shipped is not None:
        chart = scale.profile_scale_chart(cached_profile(str(shipped), ctx.request.key, ctx.loaded))
        if chart is not None:
            st.subheader("On a whole dataset")
            show_chart(chart, ctx.image_format, ctx.untrained, key_prefix="scale_")


def scale_sweep_with_progress(ctx: Context, scales: list[float]):
    bar = st.progress(0.0, text="Analysing the zoomed copies …") if len(ctx.good_images) > 1 else None

    def report(done: int, total: int) -> None:
        if bar is not None:
            bar.progress(min(done / total, 1.0), text=f"Analysed {done} of {total} zoomed images")

    try:
        return scale.cached_sweep(get_analysis_cache(), ctx.loaded, ctx.request.key, ctx.good_images,
                                  scales, progress=report)
    finally:
        if bar is not None:
            bar.empty()


# ---------------------------------------------------------------- page 4


@st.cache_resource(max_entries=64, show_spinner="Computing Grad-CAM, attribution and the knock-out …")
def attribution_results(model_key: str, digest: str, gate: str, target: int | None,
                        knocked: tuple[str, ...], _loaded: LoadedModel, _image):
    return (gradcam(_loaded, _image, gate, target), channel_attribution(_loaded, _image, gate, target),
            knockout(_loaded, _image, list(knocked)))


def pick_image(ctx: Context, key: str) -> DecodedImage | None:
    if not images_ready(ctx):
        return None
    good = ctx.good_images
    if len(good) == 1:
        return good[0]
    names = [im.name for im in good]
    return good[names.index(st.selectbox("Image", names, key=key))]


def attribution_page(ctx: Context) -> None:
    st.header("Attribution")
    st.caption("Where does the evidence for a class come from, and does the attention gate "
               "favour the channels that carry it?")
    image = pick_image(ctx, "attr_image")
    if image is None:
        return
    loaded = ctx.loaded
    names = [g.name for g in loaded.gates]
    analysed = analyse(get_analysis_cache(), loaded, ctx.request.key, [image])
    if not analysed:
        return
    [(_, analysis)] = analysed
    top = analysis.top(loaded.class_names, 5)
    cols = st.columns(3)
    gate = cols[0].selectbox("Block", names, index=len(names) - 1, key="attr_gate")
    classes = [None, *range(len(loaded.class_names))]
    target = cols[1].selectbox(
        "Class", classes, key="attr_target",
        format_func=lambda k: f"predicted: {top[0]['label']} ({top[0]['prob']:.1%})" if k is None else loaded.class_names[k])
    knocked = cols[2].multiselect("Knock out (neutralise)", names, default=[gate], key=f"knock_{gate}")
    if not knocked:
        st.info("Choose at least one gate to knock out.")
        return
    cam, channels, ko = attribution_results(ctx.request.key, image.digest, gate, target, tuple(knocked),
                                            loaded, image.image)
    show_charts(attribution.attribution_charts(loaded.gate(gate), cam, channels, ko), ctx.image_format,
                ctx.untrained, key_prefix="attr_")


# ---------------------------------------------------------------- page 5


@st.cache_resource(max_entries=64, show_spinner=False)
def walkthrough_cached(model_key: str, digest: str, gate: str, _loaded: LoadedModel, _image):
    return walkthrough(_loaded, _image, gate)


def learn_page(ctx: Context) -> None:
    st.header("Learn: what the attention gates compute")
    kinds = ctx.loaded.kinds
    tabs = st.tabs([{"se": "Squeeze-and-Excitation", "sk": "Selective Kernel", "splat": "Split attention"}[k]
                    for k in kinds])
    for tab, kind in zip(tabs, kinds):
        with tab:
            st.markdown(learn.TEXTS[kind])
    others = [k for k in ("se", "sk", "splat") if k not in kinds]
    with st.expander("The other kinds of attention"):
        for kind in others:
            st.markdown(learn.TEXTS[kind])
    st.subheader(f"Live: one block of {ctx.loaded.name} on your image")
    image = pick_image(ctx, "learn_image")
    if image is None:
        return
    names = [g.name for g in ctx.loaded.gates]
    cols = st.columns(2)
    gate = cols[0].selectbox("Block", names, index=len(names) - 1, key="learn_gate")
    channels = ctx.loaded.gate(gate).channels
    channel = cols[1].number_input(f"Channel c (0 … {channels - 1})", 0, channels - 1, 0, key=f"learn_channel_{gate}")
    w = walkthrough_cached(ctx.request.key, image.digest, gate, ctx.loaded, image.image)
    left, right = st.columns([2, 3])
    with left:
        show_image(image, caption=f"{image.name}: {w.prediction['label']} ({w.prediction['prob']:.1%})",
                   width=320)
        st.dataframe(learn.live_numbers(w, int(channel)), hide_index=True, width="stretch",
                     column_order=["symbol", "value", "meaning"])
        st.caption("The formulas hold on this image (largest absolute error of each identity):")
        st.dataframe(learn.checks_table(w), hide_index=True, width="stretch")
    with right:
        show_chart(learn.walkthrough_chart(w, int(channel)), ctx.image_format, ctx.untrained, key_prefix="learn_")


PAGES = {
    "Explore an image": explore_page,
    "Compare classes": compare_page,
    "Scale experiment (SK)": scale_page,
    "Attribution": attribution_page,
    "Learn": learn_page,
}


def main() -> None:
    ctx = sidebar()
    if ctx is None:
        return
    page = PAGES[st.session_state["_page"]]
    guard(lambda: page(ctx))


guard(main)
