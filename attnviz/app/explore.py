"""Page "Explore an image": each photo's top-5 and what every attention gate did with it."""
from __future__ import annotations

import streamlit as st

from attnviz.views import explore
from attnviz.app.render import guard, images_ready, show_chart, show_charts, show_image
from attnviz.app.state import current_context, Context, query_choice, remember


def page(ctx: Context) -> None:
    st.header("Explore an image")
    loaded = ctx.loaded
    if not loaded.gates:
        st.info(f"**{loaded.name}** has no channel attention gate (SE, ECA, SK or split attention) "
                "that attnviz recognises; choose another model.")
        return
    if not images_ready(ctx.images):
        return
    analysed = ctx.analysed()
    if not analysed:
        return
    analyses = [analysis for _, analysis in analysed]
    options = explore.ExploreOptions()
    with st.expander("Display options", expanded=False):
        left, right = st.columns(2)
        options.sort_channels = left.checkbox("Sort the block's channels by excitation", key="sort_channels")
        options.distribution = right.radio("Distribution", ["violin", "box"], horizontal=True, key="distribution")
    side_by_side = len(analyses) > 1 and st.radio(
        "Several images", ["overlay", "side by side"], horizontal=True, key="layout") == "side by side"

    per_row = 1 if len(analysed) == 1 else 2
    for start in range(0, len(analysed), per_row):
        cols = st.columns([1, 2] * per_row)
        for i, (image, analysis) in enumerate(analysed[start:start + per_row]):
            with cols[2 * i]:
                show_image(image)
            with cols[2 * i + 1]:
                show_chart(explore.prediction_chart(loaded, analysis), ctx.image_format, ctx.untrained)
    if side_by_side:
        cols = st.columns(min(len(analyses), 3))
        for i, analysis in enumerate(analyses):
            with cols[i % len(cols)]:
                show_charts(explore.overview_charts(loaded, [analysis], options), ctx.image_format,
                            ctx.untrained, key_prefix=f"{i}_", columns=1)
    else:
        show_charts(explore.overview_charts(loaded, analyses, options), ctx.image_format, ctx.untrained)
    one_block(ctx, analyses, options)


@st.fragment
def one_block(ctx: Context, analyses, options: explore.ExploreOptions) -> None:
    """The chosen gate's charts; choosing another gate redraws only these."""
    names = [g.name for g in ctx.loaded.gates]
    options.block = st.selectbox("Block shown in detail", names, key="explore_block",
                                 index=query_choice("gate", names, len(names) - 1))
    remember("gate", options.block)
    show_charts(explore.block_charts(ctx.loaded.gate(options.block), analyses, options), ctx.image_format,
                ctx.untrained, key_prefix="block_")


# A page script: Streamlit runs this file for the page (``app.py`` registers it); imported
# anywhere else, there is no context and it draws nothing.
if (ctx := current_context()) is not None:
    guard(lambda: page(ctx))
