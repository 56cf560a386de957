"""Page "Learn": what each kind of attention computes, step by step, with the live numbers of one
gate for the current image."""
from __future__ import annotations

from functools import partial
import streamlit as st

from attnviz.gates import kinds
from attnviz.i18n import _
from attnviz.app.language import fragment
from attnviz.views import learn
from attnviz.views.kinds import view_of
from attnviz.app.render import guard, pick_image, show_chart, show_image
from attnviz.app.state import Context, current_context, gate_label, query_choice, remember, walkthrough_of


def page(ctx: Context) -> None:
    st.header(_("Learn: what the attention gates compute"))
    st.caption(_("Read the formulas, then follow one gate of the model on your photo, step by step."))
    present = ctx.loaded.kinds
    tabs = st.tabs([view_of(kind).heading() for kind in present]) if present else []
    for tab, kind in zip(tabs, present, strict=True):
        with tab:
            st.markdown(explanation(kind))
    with st.expander(_("The other kinds of attention")):
        for kind in kinds():
            if kind not in present:
                st.markdown(explanation(kind))
    if not ctx.loaded.gates:
        return
    st.subheader(_("Live: one block of {model} on your image").format(model=ctx.loaded.name))
    image = pick_image(ctx.images, "learn_image")
    if image is None:
        return
    names = [g.name for g in ctx.loaded.gates]
    gate = st.selectbox(_("Block"), names, index=query_choice("gate", names, len(names) - 1), key="learn_gate",
                        format_func=gate_label(ctx))
    remember("gate", gate)
    steps(ctx, image, gate)


def explanation(kind) -> str:
    """A kind's formulas and explanation in the page's language, then its notes (which tensor the
    live example shows, the paper's letters). ``learn_text`` and the notes are marked with N_; an
    empty one stays empty: gettext would answer "" with the catalogue's header."""
    return view_of(kind).lesson()


@fragment
def steps(ctx: Context, image, gate: str) -> None:
    """The chosen channel's numbers, the step charts and its feature maps; choosing a channel
    redraws only these."""
    w = walkthrough_of(ctx.model, image, gate)
    channels = ctx.loaded.gate(gate).channels
    favoured = w.kind.most_attended(w)
    channel = int(st.number_input(_("Channel c (0 … {last}); it starts on the channel the gate favours most").format(
        last=channels - 1), 0, channels - 1, favoured, key=f"learn_channel_{gate}"))
    # The photo beside its numbers; the charts below, at full width (their panels' titles and
    # legends need it). st.table wraps a long "meaning" instead of cutting it.
    left, right = st.columns([1, 2])
    with left:
        show_image(image, caption=_("{image}: predicted {label} ({prob:.1%})").format(
            image=image.name, label=w.prediction.label, prob=w.prediction.prob))
    with right:
        st.table(learn.as_table(learn.live_numbers(w, channel), ["symbol", "value", "meaning"]), hide_index=True)
        st.caption(_("The formulas hold on this image (largest absolute error of each identity, "
                     "in the network's own numbers):"))
        st.table(learn.as_table(learn.checks_table(w), ["identity", "largest error on this image"]), hide_index=True)
    show_chart(learn.walkthrough_chart(w, channel), ctx.untrained, key_prefix="learn_")
    show_chart(learn.feature_map_chart(w, channel), ctx.untrained, key_prefix="learn_")


if (ctx := current_context()) is not None:
    guard(partial(page, ctx))  # partial binds the narrowed ctx; a lambda would re-read the Optional global
