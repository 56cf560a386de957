"""Page "Learn": what each kind of attention computes, step by step, with the live numbers of one
gate for the current image."""
from __future__ import annotations

import streamlit as st

from attnviz.gates import kinds
from attnviz.views import learn
from attnviz.app.render import guard, pick_image, show_chart, show_image
from attnviz.app.state import current_context, Context, query_choice, remember, walkthrough_of


def page(ctx: Context) -> None:
    st.header("Learn: what the attention gates compute")
    present = ctx.loaded.kinds
    tabs = st.tabs([kind.title for kind in present]) if present else []
    for tab, kind in zip(tabs, present):
        with tab:
            st.markdown(kind.learn_text)
    with st.expander("The other kinds of attention"):
        for kind in kinds():
            if kind not in present:
                st.markdown(kind.learn_text)
    if not ctx.loaded.gates:
        return
    st.subheader(f"Live: one block of {ctx.loaded.name} on your image")
    image = pick_image(ctx.images, "learn_image")
    if image is None:
        return
    names = [g.name for g in ctx.loaded.gates]
    gate = st.selectbox("Block", names, index=query_choice("gate", names, len(names) - 1), key="learn_gate")
    remember("gate", gate)
    steps(ctx, image, gate)


@st.fragment
def steps(ctx: Context, image, gate: str) -> None:
    """The chosen channel's numbers and the step charts; choosing a channel redraws only these."""
    channels = ctx.loaded.gate(gate).channels
    channel = st.number_input(f"Channel c (0 … {channels - 1})", 0, channels - 1, 0, key=f"learn_channel_{gate}")
    w = walkthrough_of(ctx.model, image, gate)
    left, right = st.columns([2, 3])
    with left:
        show_image(image, caption=f"{image.name}: {w.prediction['label']} ({w.prediction['prob']:.1%})", width=320)
        st.dataframe(learn.live_numbers(w, int(channel)), hide_index=True, width="stretch",
                     column_order=["symbol", "value", "meaning"])
        st.caption("The formulas hold on this image (largest absolute error of each identity):")
        st.dataframe(learn.checks_table(w), hide_index=True, width="stretch")
    with right:
        show_chart(learn.walkthrough_chart(w, int(channel)), ctx.image_format, ctx.untrained, key_prefix="learn_")


# A page script: Streamlit runs this file for the page (``app.py`` registers it); imported
# anywhere else, there is no context and it draws nothing.
if (ctx := current_context()) is not None:
    guard(lambda: page(ctx))
