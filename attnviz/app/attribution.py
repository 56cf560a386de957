"""Page "Attribution": where the evidence for a class comes from, whether the gate favours the
channels that carry it, and what the prediction does without the gate."""
from __future__ import annotations

import streamlit as st

from attnviz.views import attribution
from attnviz.app.render import guard, pick_image, show_charts
from attnviz.app.state import current_context, Context, attribution_of, query_choice, remember


def page(ctx: Context) -> None:
    st.header("Attribution")
    st.caption("Where does the evidence for a class come from, and does the attention gate "
               "favour the channels that carry it?")
    loaded = ctx.loaded
    if not loaded.gates:
        st.info(f"**{loaded.name}** has no attention gate to attribute; choose another model.")
        return
    image = pick_image(ctx.images, "attr_image")
    if image is None:
        return
    analysed = ctx.analysed([image])  # the analysis Explore made, from the shared cache
    if not analysed:
        return
    [(_, analysis)] = analysed
    names = [g.name for g in loaded.gates]
    top = analysis.top(loaded.class_names, 1)[0]
    cols = st.columns(3)
    gate = cols[0].selectbox("Block", names, index=query_choice("gate", names, len(names) - 1), key="attr_gate")
    remember("gate", gate)
    target = cols[1].selectbox(
        "Class", [None, *range(len(loaded.class_names))], key="attr_target",
        format_func=lambda k: f"predicted: {top['label']} ({top['prob']:.1%})" if k is None else loaded.class_names[k])
    knocked = cols[2].multiselect("Knock out (neutralise)", names, default=[gate], key=f"knock_{gate}")
    if not knocked:
        st.info("Choose at least one gate to knock out.")
        return
    result = attribution_of(ctx.model, image, gate, target, tuple(knocked), analysis)
    show_charts(attribution.attribution_charts(loaded.gate(gate), result.cam, result.channels, result.knocked),
                ctx.untrained, key_prefix="attr_")


# A page script: Streamlit runs this file for the page (``app.py`` registers it); imported
# anywhere else, there is no context and it draws nothing.
if (ctx := current_context()) is not None:
    guard(lambda: page(ctx))
