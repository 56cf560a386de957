"""Page "Scale experiment (from SKNet)": SKNet's zoom experiment on the person's images, beside the same
experiment over a whole dataset when the model ships a profile made at several zooms."""
from __future__ import annotations

from functools import partial
import streamlit as st

from attnviz.i18n import _, sentences
from attnviz.analysis.scale import model_view, sweep_scales
from attnviz.serving.analyses import cached_sweep
from attnviz.views import scale
from attnviz.views.kinds import view_of
from attnviz.app.render import guard, images_ready, show_charts
from attnviz.app.state import Context, analysis_cache, current_context, gate_label, query_choice, remember, shipped_profile


def page(ctx: Context) -> None:
    st.header(_("Scale experiment (from SKNet)"))
    units = [g for g in ctx.loaded.gates if g.compares_paths]
    # What the paths are is the kind's to say (an SK unit's kernels, ResNeSt's splits).
    st.caption(sentences(_("SKNet's experiment: enlarge the object (centre crop, then resize back) and watch "
                           "where the units move their attention."),
                         *[view_of(kind).scale_sentence() for kind in dict.fromkeys(g.kind for g in units)]))
    if not units:
        st.info(_("**{model}** has no unit that weighs two or more paths (as SK and split attention do): choose "
                  "an SK model, such as the bundled SK model or `skresnet18`, in the sidebar.").format(
                      model=ctx.loaded.name))
        return
    dataset = scale.profile_diffs(shipped_profile(ctx.model))
    if images_ready(ctx.images):
        left, right = st.columns([2, 1])
        extra = left.slider(_("Zoom"), 1.0, 3.0, 1.5, 0.05, key="zoom", format="%.2f×",
                            help=_("Added to the paper's fixed zooms 1.0×, 1.5× and 2.0×"))
        names = [g.name for g in units]
        unit = right.selectbox(_("Unit for the per-channel view"), names, index=query_choice("gate", names, 0),
                               key="scale_unit", format_func=gate_label(ctx))
        remember("gate", unit)
        scales = sweep_scales(extra)
        for preview in ctx.good_images:  # every photo the chart below averages, as the model sees it
            for col, s in zip(st.columns(len(scales)), scales, strict=True):
                col.image(model_view(ctx.loaded, preview.require_image(), s), width="stretch",
                          caption=_("{image} at {zoom:g}× (what the model sees)").format(image=preview.name, zoom=s))
        show_charts(scale.scale_charts(sweep_with_progress(ctx, scales), unit, dataset), ctx.untrained,
                    key_prefix="scale_")
    with st.expander(_("The paper's finding, and this model's"), expanded=True):
        st.markdown(scale.paper_comparison(dataset, ctx.loaded.name, [g.kind for g in units]))


def sweep_with_progress(ctx: Context, scales: list[float]):
    bar = st.progress(0.0, text=_("Analysing the zoomed copies …")) if len(ctx.good_images) > 1 else None

    def report(done: int, total: int) -> None:
        if bar is not None:
            bar.progress(min(done / total, 1.0),
                         text=_("Analysed {done} of {total} zoomed images").format(done=done, total=total))

    try:
        return cached_sweep(analysis_cache(), ctx.model, ctx.good_images, scales, progress=report)
    finally:
        if bar is not None:
            bar.empty()


# A page script: Streamlit runs this file for the page (``app.py`` registers it); imported
# anywhere else, there is no context and it draws nothing.
if (ctx := current_context()) is not None:
    guard(partial(page, ctx))  # partial binds the narrowed ctx; a lambda would re-read the Optional global
