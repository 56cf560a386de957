"""Page "Explore a photo": each photo's top-5 and what every attention gate did with it."""
from __future__ import annotations

import streamlit as st

from attnviz.app.render import guard, images_ready, show_chart, show_charts, show_image
from attnviz.app.state import Context, current_context, gate_label, query_choice, remember, shipped_profile
from attnviz.serving.inputs import vocabulary_note
from attnviz.views import explore, report


def page(ctx: Context) -> None:
    st.header("Explore a photo")
    st.caption("What every attention gate of the model did with your photo. Gates are named as in "
               "the papers: SE_2_1 is stage 2, block 1.")
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
    profile = shipped_profile(ctx.model)
    options = explore.ExploreOptions()
    with st.expander("Display options", expanded=False):
        left, right = st.columns(2)
        options.sort_channels = left.checkbox("Sort the block's channels by excitation", key="sort_channels")
        options.distribution = right.radio("Distribution", ["violin", "box"], horizontal=True, key="distribution")
    side_by_side = len(analyses) > 1 and st.radio(
        "Several photos", ["overlay", "side by side"], horizontal=True, key="layout") == "side by side"

    per_row = 1 if len(analysed) == 1 else 2
    for start in range(0, len(analysed), per_row):
        cols = st.columns([1, 2] * per_row)
        for i, (image, analysis) in enumerate(analysed[start:start + per_row]):
            with cols[2 * i]:
                show_image(image)
                note = vocabulary_note(loaded.class_names, image.label)
                if note:
                    st.warning(note, icon=":material/label_off:")
            with cols[2 * i + 1]:
                show_chart(explore.prediction_chart(loaded, analysis), ctx.untrained)
    overview = [] if side_by_side else explore.overview_charts(loaded, analyses, options, profile)
    if side_by_side:
        cols = st.columns(min(len(analyses), 3))
        for i, analysis in enumerate(analyses):
            with cols[i % len(cols)]:
                show_charts(explore.overview_charts(loaded, [analysis], options, profile), ctx.untrained,
                            key_prefix=f"{i}_", columns=1)
    wide = [c for c in overview if c.wide]
    show_charts(wide, ctx.untrained)
    one_block(ctx, analyses, options, [c for c in overview if not c.wide], profile)
    st.download_button(
        "⬇ Report to hand out (HTML)", key="explore_report", on_click="ignore", mime="text/html",
        file_name=f"attnviz_{loaded.name}_report.html",
        data=lambda: report.explore_report(
            loaded, [(im.name, im.display or im.image, a, vocabulary_note(loaded.class_names, im.label))
                     for im, a in analysed], profile).encode("utf-8"),
        help="One file with the photos, their top-5, every chart (interactive) and the numbers behind "
             "them; it opens offline")


@st.fragment
def one_block(ctx: Context, analyses, options: explore.ExploreOptions, beside, profile) -> None:
    """The chosen gate's charts (beside the page's narrow overview chart); choosing another gate
    redraws only these."""
    names = [g.name for g in ctx.loaded.gates]
    options.block = st.selectbox("Block shown in detail", names, key="explore_block", format_func=gate_label(ctx),
                                 index=query_choice("gate", names, len(names) - 1))
    remember("gate", options.block)
    show_charts(list(beside) + explore.block_charts(ctx.loaded.gate(options.block), analyses, options, profile),
                ctx.untrained, key_prefix="block_")


if (ctx := current_context()) is not None:
    guard(lambda: page(ctx))
