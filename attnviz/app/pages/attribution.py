"""Page "Attribution": where the evidence for a class comes from, whether the gate favours the
channels that carry it, and what the prediction does without the gate."""
from __future__ import annotations

from functools import partial
import streamlit as st

from attnviz.i18n import _
from attnviz.views import attribution
from attnviz.app.render import guard, pick_image, show_charts
from attnviz.app.state import current_context, Context, attribution_of, query_choice, remember


def page(ctx: Context) -> None:
    st.header(_("Attribution"))
    st.caption(_("Where does the evidence for a class come from, and does the attention gate "
                 "favour the channels that carry it?"))
    loaded = ctx.loaded
    if not loaded.gates:
        st.info(_("**{model}** has no attention gate to attribute; choose another model.").format(model=loaded.name))
        return
    image = pick_image(ctx.images, "attr_image")
    if image is None:
        return
    analysed = ctx.analysed([image])  # the analysis Explore made, from the shared cache
    if not analysed:
        return
    [(__, analysis)] = analysed
    names = [g.name for g in loaded.gates]
    top = analysis.top(loaded.class_names, 1)[0]
    predicted = _("predicted: {label} ({prob:.1%})").format(label=top.label, prob=top.prob)
    cols = st.columns(3)
    gate = cols[0].selectbox(_("Block"), names, index=query_choice("gate", names, len(names) - 1), key="attr_gate")
    remember("gate", gate)
    target = cols[1].selectbox(
        _("Class"), [None, *range(len(loaded.class_names))], key="attr_target",
        format_func=lambda k: predicted if k is None else loaded.class_names[k])
    knocked = cols[2].multiselect(_("Knock out (neutralise)"), names, default=[gate], key=f"knock_{gate}",
                                  placeholder=_("Choose gates"))
    if not knocked:
        st.info(_("Choose at least one gate to knock out."))
        return
    result = attribution_of(ctx.model, image, gate, target, tuple(knocked), analysis)
    show_charts(attribution.attribution_charts(loaded.gate(gate), result.cam, result.channels, result.knocked),
                ctx.untrained, key_prefix="attr_")


# A page script: Streamlit runs this file for the page (``app.py`` registers it); imported
# anywhere else, there is no context and it draws nothing.
if (ctx := current_context()) is not None:
    guard(partial(page, ctx))  # partial binds the narrowed ctx; a lambda would re-read the Optional global
