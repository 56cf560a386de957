"""The sidebar every page shares: the model (bundled, timm, weights), the images (uploads and
samples, within the session's caps) and the device; it returns the page's ``Context``."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from ..errors import ModelLoadError
from .render import picked
from ..i18n import _, sentences
from ..figures.literal import markdown_text
from ..serving import server_limits
from ..serving.inputs import DecodedImage, ImageInput, knows, read_files, session_caps, unique_names
from ..serving.samples import sample_photos
from ..serving.models import FILE, PRETRAINED, RANDOM, WEIGHT_MODES, ModelRequest, ServedModel, model_choices, upload_key
from ..models.zoo import WeightsBlob, bundled_dir, default_model_name
from .sessions import admitted_uploads
from .present import presenter_toggle
from .state import Context, data_root, decoded, query_choice, remember, served_model
from .session_keys import EXAMPLE, EXAMPLE_AUTO, EXAMPLE_STARTED, LIVE_FROZEN, LOAD_FAILURES, SAMPLES, WEIGHTS_BLOB


@st.cache_resource(ttl=600, show_spinner=False)
def picker_choices(assets: str):  # noqa: ARG001  the cache key: the assets folder decides the bundled models
    """The picker's entries; keyed on the assets folder, which decides the bundled models."""
    return model_choices()


def pick_model() -> ModelRequest | None:
    choices = picker_choices(str(bundled_dir()))
    names = [c.name for c in choices]
    labels = {c.name: c.label for c in choices}
    default = default_model_name()
    if default is None:
        st.sidebar.info(_("No bundled model is installed. Train one with `attnviz train` (see the "
                          "README), or pick a timm model below."))
    index = query_choice("model", names, names.index(default) if default in names else 0)
    name = st.sidebar.selectbox(_("Model"), names, index=index, format_func=lambda n: labels[n], key="model",
                                help=_("Bundled models are trained by us and work offline; the timm models "
                                       "need their ImageNet weights on this server, or a weights file."))
    remember("model", name)
    choice = next(c for c in choices if c.name == name)
    # The description and the status are marked where they are written (the zoo, the serving layer).
    st.sidebar.caption(sentences(choice.description, choice.status_text))
    if choice.source == "bundled":
        return ModelRequest(name)
    modes = list(WEIGHT_MODES)
    if not choice.available_offline:
        st.sidebar.warning(_("This model's ImageNet weights are not on this server. Upload a weights "
                             "file, or look at the architecture with random weights."), icon=":material/cloud_off:")
        modes = [FILE, RANDOM] + [m for m in modes if m not in (FILE, RANDOM)]
    mode_labels = dict(WEIGHT_MODES)  # read now, in this run's language (Labels translates on reading)
    mode: str = picked(st.sidebar.radio(_("Weights"), modes, format_func=mode_labels.__getitem__, key=f"weights_mode_{name}"))
    return pick_weights_file(name) if mode == FILE else ModelRequest(name, mode)


def pick_weights_file(name: str) -> ModelRequest | None:
    """A weights file: uploaded, or one of the data root's (never a typed server path)."""
    limits = server_limits()
    root = data_root()
    weights = root.weights_files() if root is not None else []
    if weights:
        chosen = st.sidebar.selectbox(_("Weights file on the server"), [None, *weights], key=f"weights_root_{name}",
                                      format_func=lambda w: _("— upload one instead —") if w is None else w)
        if chosen is not None:
            return ModelRequest(name, FILE, str(root.resolve(chosen)))
    upload = st.sidebar.file_uploader(_("Weights file (.safetensors, .pth or .pt)"), type=["safetensors", "pth", "pt"],
                                      key=f"weights_upload_{name}", max_upload_size=limits.weights_mb)
    if upload is None:
        st.sidebar.caption(_("Upload a weights file trained for this architecture (up to {mb} MB).").format(
            mb=limits.weights_mb))
        return None
    blob = WeightsBlob(upload.name, upload.getvalue())
    st.session_state[WEIGHTS_BLOB] = blob
    return ModelRequest(name, FILE, upload_key(blob))


def _picked_by_the_visitor() -> None:
    st.session_state.pop(EXAMPLE_AUTO, None)  # the picker is the visitor's now: an upload keeps it


def _opens_on_the_example(live_example: bool, has_images: bool) -> bool:
    """Whether this run chooses the live example: on a page that opens on one (``live_example``),
    once per session, when the visitor has no image of any kind and has not chosen samples. Chosen
    here, before the picker is drawn, in the same run: no rerun, so no second run per new visitor
    and no window in which the browser's empty picker could undo the choice."""
    return (live_example and not has_images and not st.session_state.get(SAMPLES)
            and not st.session_state.get(EXAMPLE_STARTED))


def pick_images(app_dir: Path, class_names: list[str] | None = None, live_example: bool = False):
    limits = server_limits()
    uploads = st.sidebar.file_uploader(
        _("Images (drag and drop one or many)"), accept_multiple_files=True, key="uploads",
        max_upload_size=limits.image_mb,
        help=_("JPEG, PNG, WebP, BMP, TIFF or GIF; up to {images} images and {mb} MB in all").format(
            images=limits.images_per_session, mb=limits.upload_mb_per_session))
    # Checked on the server before a byte is read (the uploader's size cap is the browser's only);
    # each upload is read once a session, and a refused one's bytes are let go now.
    admission = admitted_uploads(uploads or [], limits)
    items = list(admission.admitted)
    over = [DecodedImage(name=name, error=reason) for name, reason in admission.refused]
    # The camera: a student holds an object up; the photo goes through the same caps, decoding
    # and caches as an upload.
    if st.sidebar.toggle(_("Take a photo with the camera"), key="use_camera"):
        shot = st.sidebar.camera_input(_("Hold an object up to the camera"), key="camera")
        if shot is not None:
            items.append(ImageInput("camera photo", shot.getvalue()))
    # A frame frozen on the Live page (attnviz/app/pages/live.py): one image like any other, until unticked.
    frozen = st.session_state.get(LIVE_FROZEN)
    if frozen is not None and st.sidebar.checkbox(_("Frozen live frame: {name}").format(name=frozen[0]), value=True,
                                                  key=f"use_frozen_{frozen[0]}"):
        items.append(ImageInput(*frozen))
    labels = sample_photos(app_dir)  # the samples folder's, else the photos scikit-image ships
    if labels:
        known = [p for p in labels if class_names and knows(class_names, labels[p])]
        options = known + [p for p in labels if p not in known]  # photos the model knows first
        st.session_state[EXAMPLE] = options[0]
        if _opens_on_the_example(live_example, bool(items or over)):
            st.session_state[EXAMPLE_STARTED] = True
            st.session_state[SAMPLES] = [options[0]]
            st.session_state[EXAMPLE_AUTO] = True
        # The live example is for the visitor who has not uploaded yet: once their own photos come,
        # the page shows those alone (drawing the example beside them doubled each upload's work).
        # Picking it again in the picker keeps it; so does any choice the visitor made.
        if (admission.admitted and st.session_state.pop(EXAMPLE_AUTO, False)
                and st.session_state.get(SAMPLES) == [options[0]]):
            st.session_state[SAMPLES] = []
        chosen = st.sidebar.multiselect(
            _("Sample photos ({known} of {total} of classes this model knows, marked ✓)").format(
                known=len(known), total=len(labels)), options,
            format_func=lambda p: f"✓ {labels[p]}" if p in known else labels[p], key=SAMPLES,
            placeholder=_("Choose sample photos"), on_change=_picked_by_the_visitor)
        items += [ImageInput(labels[p], item.data, labels[p]) for p, item in
                  zip(chosen, read_files(Path(p) for p in chosen), strict=True)]
    items = [item if name == item.name else ImageInput(name, item.data, item.label)  # kept: its digest is known
             for name, item in zip(unique_names(i.name for i in items), items, strict=True)]
    kept, refused = session_caps(items, limits.images_per_session, limits.upload_bytes_per_session)
    return [decoded(item.name, item.digest, item.data, item.label) for item in kept] + over + refused


def load_once(request: ModelRequest) -> ServedModel | None:
    """The shared model, or None after showing why it cannot be loaded. A failure is remembered
    for the session, so reruns do not retry a download that just failed."""
    failures = st.session_state.setdefault(LOAD_FAILURES, {})
    if request.key not in failures:
        try:
            uploaded = request.weights is not None and request.weights.startswith("upload:")
            return served_model(request, st.session_state.get(WEIGHTS_BLOB) if uploaded else None)
        except ModelLoadError as exc:
            failures[request.key] = str(exc)
    if request.mode == PRETRAINED:
        # The library's message names command-line remedies; in the app, name the app's own.
        st.warning(_("**{name} is not available on this server**: its ImageNet weights have not "
                     "been downloaded here, and the server cannot download them now.").format(name=request.name),
                   icon=":material/cloud_off:")
        st.info(_("Under *{weights}* in the sidebar, choose **{file}** to upload weights you "
                  "have, or **{random}** to explore the architecture anyway "
                  "(its results are labelled untrained). Or choose a bundled model: they work offline.").format(
                      weights=_("Weights"), file=WEIGHT_MODES[FILE], random=WEIGHT_MODES[RANDOM]))
    else:
        st.error(_("**{name} could not be loaded.** {error}").format(name=request.name,
                                                                      error=markdown_text(failures[request.key])))
    if st.button(_("Try again"), key="retry_load"):
        failures.pop(request.key, None)
        st.rerun()
    return None


def sidebar(app_dir: Path, starting=None, live_example: bool = False) -> Context | None:
    """The shared sidebar; None (after saying why) when no model can be used. ``starting``: the
    start-up message, cleared once the model is ready; ``live_example``: the page opens on a sample
    photo when the visitor has none (Explore, Learn)."""
    st.sidebar.title("attnviz")
    st.sidebar.caption(_("Channel attention in CNNs, made visible"))
    presenter_toggle()  # ?present=1: for a projector
    request = pick_model()
    if request is None:
        images = pick_images(app_dir, live_example=live_example)
        if starting is not None:
            starting.empty()
        st.info(_("Choose or upload a weights file for this architecture in the sidebar."))
        return None
    model = load_once(request)
    if starting is not None:
        starting.empty()
    images = pick_images(app_dir, model.loaded.class_names if model is not None else None, live_example)
    if model is None:
        return None
    st.sidebar.markdown(_("**Device:** {device}").format(device=model.loaded.device_label))
    if model.untrained:
        st.sidebar.warning(_("Untrained: random weights. The charts show the architecture, not learned attention."))
    return Context(model, images)
