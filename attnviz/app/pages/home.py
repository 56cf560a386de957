"""Page "Start here": what channel attention is, in two pictures drawn from the models' own numbers,
three ways to start, and the model in use with what it knows."""
from __future__ import annotations

from functools import partial
from pathlib import Path

import streamlit as st
from PIL import Image

from attnviz.app.render import guard
from attnviz.app.state import HASH, Context, current_context, served_model, walkthrough_of
from attnviz.figures.diagram import channel_diagram, selection_diagram
from attnviz.gates import EXCITATION, SELECTION, kind_named
from attnviz.i18n import _, current_language, ngettext
from attnviz.serving.inputs import ImageInput, decode, knows, read_files
from attnviz.serving.inputs import samples_folder
from attnviz.serving.samples import sample_photos
from attnviz.serving.models import ModelRequest, ServedModel
from attnviz.views.kinds import view_of
from attnviz.models.zoo import bundled_models

PROJECT = Path(__file__).resolve().parents[3]  # attnviz/app/pages/home.py -> the checkout


def picture_photo(model: ServedModel):
    """A sample photo of a class the model knows, else the first sample (the samples folder's, else
    the photos scikit-image ships); a plain gradient only when neither can be read."""
    labels = sample_photos(PROJECT)
    known = [p for p in labels if knows(model.loaded.class_names, labels[p])]
    for path in known + [p for p in labels if p not in known]:
        [item] = read_files([Path(path)])
        image = decode(ImageInput(labels[path], item.data, labels[path]))
        if image.ok:
            return image
    gradient = Image.linear_gradient("L").resize((256, 256)).convert("RGB")
    return decode(ImageInput(_("a grey gradient"), _png(gradient)))


def _png(image: Image.Image) -> bytes:
    import io

    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def model_with(ctx: Context, family: str) -> ServedModel | None:
    """The model in use if it has such gates, else a bundled model that has."""
    candidates = [ctx.model] + [served_model(ModelRequest(name)) for name in bundled_models()]
    for model in candidates:
        if any(g.kind.draws(family) for g in model.loaded.gates):
            return model
    return None


#: The home page's two pictures: the chart family a kind draws (``AttentionKind.chart_families``) -> its diagram.
DIAGRAMS = {EXCITATION: channel_diagram, SELECTION: selection_diagram}


@st.cache_resource(max_entries=16, show_spinner=False, hash_funcs=HASH)
def drawn_picture(model: ServedModel, family: str, language: str, samples: str):  # noqa: ARG001  part of the cache key: the picture differs by language and samples folder
    """(figure, photo, gate) of one picture, drawn once per model, language and samples folder for
    every visitor: a class opening the app at once would otherwise read the samples and draw it
    thirty times. ``samples`` (the folder, or "packaged") is part of the key: the picture is drawn
    on that folder's photo."""
    gates = [g for g in model.loaded.gates if g.kind.draws(family)]
    gate = gates[len(gates) // 2]
    photo = picture_photo(model)
    return DIAGRAMS[family](walkthrough_of(model, photo, gate.name)), photo, gate


def picture(model: ServedModel, family: str) -> None:
    samples = samples_folder(PROJECT)
    figure, photo, gate = drawn_picture(model, family, current_language(),
                                        "packaged" if samples is None else str(samples))
    st.plotly_chart(figure, width="stretch", config={"displaylogo": False}, key=f"home_{family}")
    st.caption(_("Drawn from {model} on the photo *{photo}*: the bars are the weights "
                 "{gate} (stage {stage}, block {block}) gave to its first channels.").format(
                     model=model.loaded.name, photo=photo.name, gate=gate.name, stage=gate.stage, block=gate.block))


def page(ctx: Context) -> None:
    st.title(_("See what channel attention does"))
    st.markdown(_(
        "A convolutional network computes many **channels** — feature maps that each respond to a "
        "pattern. **Channel attention** lets a block look at the whole image and then *re-weight* its "
        "own channels, differently for every image:\n"
        "- a **Squeeze-and-Excitation (SE)** block gives every channel a weight *s* between 0 and 1;")
        + "\n" + _(view_of(kind_named("sk")).home_line))  # the SK unit's own words name its kernels
    left, right = st.columns(2)
    for column, flag, what in ((left, EXCITATION, "SE"), (right, SELECTION, "SK")):
        with column:
            model = model_with(ctx, flag)
            if model is None:
                st.info(_("No {kind} model is available to draw this picture.").format(kind=what))
            else:
                picture(model, flag)
    st.subheader(_("Start"))
    cols = st.columns(3)
    cols[0].page_link("attnviz/app/pages/explore.py", label=_("Explore a photo"), icon=":material/image_search:",
                      help=_("Upload a photo (or pick a sample) and see every gate's weights"))
    cols[1].page_link("attnviz/app/pages/compare.py", label=_("Compare classes"), icon=":material/bar_chart:",
                      help=_("The SENet paper's question: does a block treat every class alike?"))
    cols[2].page_link("attnviz/app/pages/learn.py", label=_("Learn step by step"), icon=":material/school:",
                      help=_("The formulas of each gate with the live numbers of one photo"))
    st.subheader(_("The model in use"))
    names = ctx.loaded.class_names
    known = ", ".join(names) if len(names) <= 20 else _("the {n} ImageNet classes").format(n=len(names))
    gates = ngettext("{n} gate", "{n} gates", len(ctx.loaded.gates)).format(n=len(ctx.loaded.gates))
    st.markdown(_("**{model}** — {kinds}; {gates}. It knows **{n} classes**: {known}. A photo of anything else "
                  "still gets a top-5, but only among these classes.").format(
                      model=ctx.loaded.name, kinds=ctx.loaded.kinds_text, gates=gates, n=len(names), known=known))


if (ctx := current_context()) is not None:
    guard(partial(page, ctx))  # partial binds the narrowed ctx; a lambda would re-read the Optional global
