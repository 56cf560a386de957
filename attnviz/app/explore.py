"""Page "Explore a photo": each photo's top-5 and what every attention gate did with it."""
from __future__ import annotations

import streamlit as st

from attnviz.app.render import guard, images_ready, show_chart, show_charts, show_image
from attnviz.errors import AttnvizError
from attnviz.profiles import dataset_name
from attnviz.app.state import (Context, channel_picture, current_context, data_root, gate_label, query_choice, remember,
                               shipped_profile)
from attnviz.serving.inputs import vocabulary_note
from attnviz.views import channel as channel_views
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
    """The chosen gate's charts (beside the page's narrow overview chart) and what one of its
    channels responds to; choosing another gate or channel redraws only these."""
    names = [g.name for g in ctx.loaded.gates]
    options.block = st.selectbox("Block shown in detail", names, key="explore_block", format_func=gate_label(ctx),
                                 index=query_choice("gate", names, len(names) - 1))
    remember("gate", options.block)
    gate = ctx.loaded.gate(options.block)
    block = explore.block_charts(gate, analyses, options, profile)
    picked = show_charts(list(beside) + block, ctx.untrained, key_prefix="block_", selectable=[c.key for c in block])
    clicked = next((points[0] for points in picked.values()), None)
    channel_view(ctx, gate, analyses, profile, clicked)


def clicked_channel(point: dict) -> int | None:
    """The channel a clicked bar stands for (its hover names it, or its category is the index)."""
    custom = point.get("customdata")
    if isinstance(custom, (list, tuple)) and custom:
        custom = custom[0]
    for candidate in (custom, point.get("x")):
        try:
            return int(candidate)
        except (TypeError, ValueError):
            continue
    return None


def channel_view(ctx: Context, gate, analyses, profile, clicked: dict | None) -> None:
    st.subheader("What does one channel respond to?")
    key = f"channel_{gate.name}"
    if clicked is not None and (c := clicked_channel(clicked)) is not None and 0 <= c < gate.channels:
        st.session_state[key] = c
    first = channel_views.default_channel(gate, analyses[0].values[gate.name])
    c = int(st.number_input(f"Channel of {gate.name} (click a bar above, or type a number)", 0, gate.channels - 1,
                            first, key=key))
    if profile is None or gate.name not in profile.gate_names:
        st.info(f"{ctx.loaded.name} ships no class profile, so the images that excite a channel are not known. "
                "Make one with `attnviz profile DATA --model NAME --top-images 9`.")
        return
    if not profile.has_top_images:
        st.info("This model's class profile keeps no top images; make one with "
                f"`attnviz profile DATA --model {ctx.loaded.name} --top-images 9`.")
        return
    listed = profile.channel_images(gate.name, c)
    folder = images_folder(profile)
    titles = channel_views.list_titles(gate)
    for kind, title in zip(("top", "bottom"), titles):
        st.markdown(f"**The {len(listed[kind])} images of {dataset_name(profile.data)} that {title}**")
        image_grid(ctx, gate, c, listed[kind], folder, with_map=kind == "top")
    show_chart(channel_views.class_mix_chart(profile, gate, c, listed), ctx.untrained, key_prefix="channel_")


def images_folder(profile):
    """The profile's dataset folder under the operator's data root, if there is one."""
    root = data_root()
    if root is None:
        return None
    try:
        folder = root.resolve(profile.data)
    except AttnvizError:
        return None
    return (root, folder) if folder.is_dir() else None


PER_ROW = 5


def image_grid(ctx: Context, gate, channel: int, rows: list[dict], folder, with_map: bool) -> None:
    if folder is None:
        st.dataframe([{"value": f"{r['value']:.4f}", "class": r["class"], "image": r["image"]} for r in rows],
                     hide_index=True, width="stretch")
        st.caption("To show these pictures, the server's operator sets ATTNVIZ_DATA_ROOT to the folder that "
                   "holds this dataset (see the README).")
        return
    root, base = folder
    for start in range(0, len(rows), PER_ROW):
        for col, row in zip(st.columns(PER_ROW), rows[start:start + PER_ROW]):
            path = base / row["image"]
            if not root.inside(path) or not path.is_file():
                col.caption(f"{row['class']}: {row['value']:.3f} (image not found)")
                continue
            picture = channel_picture(ctx.model, str(path), gate.name, channel, with_map)
            col.image(picture, caption=f"{row['class']}: {row['value']:.3f}", width="stretch")
    if with_map:
        st.caption(f"Red: where channel {channel} is active in each photo (its map at {gate.name}, after the gate).")


if (ctx := current_context()) is not None:
    guard(lambda: page(ctx))
