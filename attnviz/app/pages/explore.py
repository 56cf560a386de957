"""Page "Explore a photo": each photo's top-5 and what every attention gate did with it."""
from __future__ import annotations

from functools import partial
import streamlit as st

from attnviz.app.cache_keys import ChartKey, PhotoKey
from attnviz.app.chart_cache import FrozenChart, shared_charts
from attnviz.app.language import fragment, translated
from attnviz.app.render import guard, images_ready, picked, show_chart, show_charts, show_image
from attnviz.errors import AttnvizError
from attnviz.i18n import N_, _, current_language, language, ngettext
from attnviz.profiles.profile import dataset_name
from attnviz.app.state import (Context, channel_picture, chart_store, current_context, data_root, gate_label,
                               query_choice, remember, shipped_profile, shipped_profile_path)
from attnviz.analysis.openset import bundled_calibration, photo_note
from attnviz.views import channel as channel_views
from attnviz.views import explore, report

#: The choices of the page's radios: the value the code compares -> what the reader sees.
DISTRIBUTIONS = {"violin": N_("violin"), "box": N_("box")}
LAYOUTS = {"overlay": N_("overlay"), "side by side": N_("side by side")}
#: Session key: whether the section "What does one channel respond to?" is open.
CHANNEL_VIEW = "explore_channel_view"


def charts(ctx: Context, view: str, photos: tuple[PhotoKey, ...], build, **options) -> tuple[FrozenChart, ...]:
    """A view's charts for these photos, built once for every session (``ChartKey``: the view, the
    served model and its shipped profile, the photos by name and content, the language and the
    ``options`` it reads)."""
    key = ChartKey(view, ctx.model.key, photos, current_language(), shipped_profile_path(ctx.model), **options)
    return shared_charts(chart_store(), key, build)


def page(ctx: Context) -> None:
    st.header(_("Explore a photo"))
    loaded = ctx.loaded
    first = next((g for g in loaded.gates if g.stage is not None), None)
    st.caption(_("What every attention gate of the model did with your photo.") if first is None else
               _("What every attention gate of the model did with your photo. Gates are named as in the papers: "
                 "{gate} is stage {stage}, block {block}.").format(gate=first.name, stage=first.stage,
                                                                   block=first.block))
    if not loaded.gates:
        st.info(_("**{model}** has no channel attention gate (SE, ECA, SK or split attention) "
                  "that attnviz recognises; choose another model.").format(model=loaded.name))
        return
    if not images_ready(ctx.images):
        return
    analysed = ctx.analysed()
    if not analysed:
        return
    analyses = [analysis for __, analysis in analysed]
    photos = tuple(PhotoKey(image.name, image.digest) for image, __ in analysed)
    profile = shipped_profile(ctx.model)
    calibration = bundled_calibration(loaded.name)  # the open-set threshold of a bundled model
    options = explore.ExploreOptions()
    with st.expander(_("Display options"), expanded=False):
        left, right = st.columns(2)
        options.sort_channels = left.checkbox(_("Sort the block's channels by excitation"), key="sort_channels")
        options.distribution = picked(right.radio(_("Distribution"), list(DISTRIBUTIONS), horizontal=True,
                                                  key="distribution", format_func=translated(DISTRIBUTIONS).__getitem__))
    side_by_side = len(analyses) > 1 and st.radio(
        _("Several photos"), list(LAYOUTS), horizontal=True, key="layout",
        format_func=translated(LAYOUTS).get) == "side by side"

    notes = []  # (photo, note): shown below the photos, where a line has room (a photo's column has not)
    per_row = 1 if len(analysed) == 1 else 2
    for start in range(0, len(analysed), per_row):
        cols = st.columns([1, 2] * per_row)
        for i, (image, analysis) in enumerate(analysed[start:start + per_row], start=start):
            with cols[2 * (i - start)]:
                show_image(image)
                note = photo_note(loaded.class_names, image.label, calibration, analysis.probs)
                if note:
                    notes.append((image.name, note))
            with cols[2 * (i - start) + 1]:
                [top] = charts(ctx, "top5", photos[i:i + 1], lambda a=analysis: [explore.prediction_chart(loaded, a)])
                show_chart(top, ctx.untrained)
    if notes:
        st.warning(explore.photo_notes(notes, len(analysed)), icon=":material/label_off:")
    overview = () if side_by_side else charts(
        ctx, "overview", photos, lambda: explore.overview_charts(loaded, analyses, options, profile),
        distribution=options.distribution)
    if side_by_side:
        cols = st.columns(min(len(analyses), 3))
        for i, analysis in enumerate(analyses):
            with cols[i % len(cols)]:
                show_charts(charts(ctx, "overview", photos[i:i + 1],
                                   lambda a=analysis: explore.overview_charts(loaded, [a], options, profile),
                                   distribution=options.distribution), ctx.untrained, key_prefix=f"{i}_", columns=1)
    wide = [c for c in overview if c.wide]
    show_charts(wide, ctx.untrained)
    one_block(ctx, photos, analyses, options, [c for c in overview if not c.wide], profile)
    lang = current_language()  # Streamlit makes the file after the run, when no language is set
    st.download_button(
        _("⬇ Report to hand out (HTML)"), key="explore_report", on_click="ignore", mime="text/html",
        file_name=f"attnviz_{loaded.name}_report.html",
        data=lambda: explore_report(loaded, analysed, profile, calibration, lang),
        help=_("One file with the photos, their top-5, every chart (interactive) and the numbers behind "
               "them; it opens offline"))


def explore_report(loaded, analysed, profile, calibration, lang: str) -> bytes:
    """The page as one HTML file, in the page's language ``lang``."""
    with language(lang):
        return report.explore_report(
            loaded, [(im.name, im.display or im.image, a, photo_note(loaded.class_names, im.label, calibration, a.probs))
                     for im, a in analysed], profile).encode("utf-8")


@fragment
def one_block(ctx: Context, photos: tuple[PhotoKey, ...], analyses, options: explore.ExploreOptions, beside,
              profile) -> None:
    """The chosen gate's charts (beside the page's narrow overview chart) and what one of its
    channels responds to; choosing another gate or channel redraws only these."""
    names = [g.name for g in ctx.loaded.gates]
    default = names.index(explore.default_block(ctx.loaded, analyses, profile).name)
    options.block = st.selectbox(_("Block shown in detail"), names, key="explore_block", format_func=gate_label(ctx),
                                 index=query_choice("gate", names, default))
    remember("gate", options.block)
    gate = ctx.loaded.gate(options.block)
    block = charts(ctx, "block", photos, lambda: explore.block_charts(gate, analyses, options, profile),
                   gate=gate.name, sort_channels=options.sort_channels)
    picked = show_charts([*beside, *block], ctx.untrained, key_prefix="block_", selectable=[c.key for c in block])
    clicked = next((points[0] for points in picked.values()), None)
    channel_view(ctx, gate, analyses, profile, clicked)


def clicked_channel(point: dict) -> int | None:
    """The channel a clicked bar stands for (its hover names it, or its category is the index)."""
    custom = point.get("customdata")
    if isinstance(custom, (list, tuple)) and custom:
        custom = custom[0]
    for candidate in (custom, point.get("x")):
        if not isinstance(candidate, (int, float, str)):  # None, or a list: not a channel
            continue
        try:
            return int(candidate)
        except ValueError:
            continue
    return None


def channel_view(ctx: Context, gate, analyses, profile, clicked: dict | None) -> None:
    """What one channel of ``gate`` responds to, in a section the visitor can close: closed, none
    of it is computed (the profile's top images, their maps, the class-mix chart); clicking a bar
    opens it on that bar's channel."""
    key = f"channel_{gate.name}"
    if clicked is not None and (c := clicked_channel(clicked)) is not None and 0 <= c < gate.channels:
        st.session_state[key] = c
        st.session_state[CHANNEL_VIEW] = True
    box = st.expander(_("What does one channel respond to?"), expanded=True, key=CHANNEL_VIEW, on_change="rerun")
    if box.open is False:
        return
    with box:
        channel_detail(ctx, gate, analyses, profile, key)


def channel_detail(ctx: Context, gate, analyses, profile, key: str) -> None:
    first = channel_views.default_channel(gate, analyses[0].values[gate.name])
    c = int(st.number_input(_("Channel of {gate} (click a bar above, or type a number)").format(gate=gate.name),
                            0, gate.channels - 1, first, key=key))
    if profile is None or gate.name not in profile.gate_names:
        st.info(_("{model} ships no class profile, so the images that excite a channel are not known. "
                  "Make one with `attnviz profile DATA --model NAME --top-images 9`.").format(model=ctx.loaded.name))
        return
    if not profile.has_top_images:
        st.info(_("This model's class profile keeps no top images; make one with "
                  "`attnviz profile DATA --model {model} --top-images 9`.").format(model=ctx.loaded.name))
        return
    listed = profile.channel_images(gate.name, c)
    folder = images_folder(profile)
    titles = channel_views.list_titles(gate)
    for kind, title in zip(("top", "bottom"), titles, strict=True):
        count = len(listed[kind])
        st.markdown(ngettext("**The {count} image of {dataset} that {title}**",
                             "**The {count} images of {dataset} that {title}**", count).format(
            count=count, dataset=dataset_name(profile.data), title=title))
        image_grid(ctx, gate, c, listed[kind], folder, with_map=kind == "top")
    # The class mix depends on the model's profile alone (the served model names it), not on the photos.
    [mix] = charts(ctx, "class_mix", (), lambda: [channel_views.class_mix_chart(profile, gate, c, listed)],
                   gate=gate.name, channel=c)
    show_chart(mix, ctx.untrained, key_prefix="channel_")


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
                     hide_index=True, width="stretch",
                     column_config={"value": _("value"), "class": _("class"), "image": _("image")})
        st.caption(_("To show these pictures, the server's operator sets ATTNVIZ_DATA_ROOT to the folder that "
                     "holds this dataset (see the README)."))
        return
    root, base = folder
    for start in range(0, len(rows), PER_ROW):
        for col, row in zip(st.columns(PER_ROW), rows[start:start + PER_ROW], strict=False):
            path = base / row["image"]
            if not root.inside(path) or not path.is_file():
                col.caption(_("{label}: {value:.3f} (image not found)").format(label=row["class"], value=row["value"]))
                continue
            picture = channel_picture(ctx.model, str(path), gate.name, channel, with_map)
            col.image(picture, caption=f"{row['class']}: {row['value']:.3f}", width="stretch")
    if with_map:
        st.caption(_("Red: where channel {channel} is active in each photo (its map at {gate}, after the gate).").format(
            channel=channel, gate=gate.name))


if (ctx := current_context()) is not None:
    guard(partial(page, ctx))  # partial binds the narrowed ctx; a lambda would re-read the Optional global
