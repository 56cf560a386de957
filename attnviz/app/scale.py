"""Page "Scale experiment (SK)": SKNet's zoom experiment on the person's images, beside the same
experiment over a whole dataset when the model ships a profile made at several zooms."""
from __future__ import annotations

import streamlit as st

from attnviz.scale import sweep_scales, zoom
from attnviz.serving.analyses import cached_sweep
from attnviz.views import scale
from attnviz.app.render import guard, images_ready, show_chart, show_charts
from attnviz.app.state import current_context, Context, analysis_cache, query_choice, remember, shipped_profile


def page(ctx: Context) -> None:
    st.header("Scale experiment (SK)")
    st.caption("SKNet's experiment: enlarge the object (centre crop, then resize back) and watch "
               "the SK units move their attention toward the larger kernel.")
    units = [g for g in ctx.loaded.gates if g.paths >= 2]
    if not units:
        st.info(f"**{ctx.loaded.name}** has no SK unit (nor split attention): choose an SK model, "
                "such as the bundled SK model or `skresnet18`, in the sidebar.")
        return
    if images_ready(ctx.images):
        left, right = st.columns([2, 1])
        extra = left.slider("Zoom", 1.0, 3.0, 1.25, 0.05, key="zoom", format="%.2f×",
                            help="Added to the paper's fixed zooms 1.0×, 1.5× and 2.0×")
        names = [g.name for g in units]
        unit = right.selectbox("Unit for the per-channel view", names, index=query_choice("gate", names, 0),
                               key="scale_unit")
        remember("gate", unit)
        scales = sweep_scales(extra)
        preview = ctx.good_images[0]
        for col, s in zip(st.columns(len(scales)), scales):
            col.image(zoom(preview.image, s), caption=f"{preview.name} at {s:g}×", width="stretch")
        show_charts(scale.scale_charts(sweep_with_progress(ctx, scales), unit), ctx.image_format,
                    ctx.untrained, key_prefix="scale_")
    profile = shipped_profile(ctx.model)
    chart = scale.profile_scale_chart(profile) if profile is not None else None
    if chart is not None:
        st.subheader("On a whole dataset")
        show_chart(chart, ctx.image_format, ctx.untrained, key_prefix="scale_")


def sweep_with_progress(ctx: Context, scales: list[float]):
    bar = st.progress(0.0, text="Analysing the zoomed copies …") if len(ctx.good_images) > 1 else None

    def report(done: int, total: int) -> None:
        if bar is not None:
            bar.progress(min(done / total, 1.0), text=f"Analysed {done} of {total} zoomed images")

    try:
        return cached_sweep(analysis_cache(), ctx.model, ctx.good_images, scales, progress=report)
    finally:
        if bar is not None:
            bar.empty()


# A page script: Streamlit runs this file for the page (``app.py`` registers it); imported
# anywhere else, there is no context and it draws nothing.
if (ctx := current_context()) is not None:
    guard(lambda: page(ctx))
