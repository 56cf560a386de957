"""Page "Compare classes": the SENet paper's role of excitation, from a saved class profile, the
session's labelled images, or folders of class images (a zip, or the operator's data root)."""
from __future__ import annotations

from functools import partial
import streamlit as st

from attnviz.profiles import class_stats
from attnviz.i18n import N_, _, current_language, language, ngettext
from attnviz.figures.literal import markdown_text
from attnviz.models.preprocess import preprocessing_path
from attnviz.profiles.profile import Profile, dataset_name, profile_from_bytes
from attnviz.profiles.builder import profile_images
from attnviz.serving import classfolders, server_limits
from attnviz.views import compare, report
from attnviz.app.language import translated
from attnviz.app.render import guard, no_images_hint, picked, show_bad_files, show_charts
from attnviz.app.state import current_context, HASH, Context, data_root, job_queue, profile_store, shipped_profile

SOURCES = {"file": N_("a saved class profile"), "images": N_("labelled images"),
           "folder": N_("folders of class images")}
ORIGINS = {"zip": N_("a zip I upload"), "root": N_("a folder on this server")}


def page(ctx: Context) -> None:
    st.header(_("Compare classes"))
    st.caption(_("The SENet paper's *role of excitation*: does a block treat every class alike, "
                 "or does it respond differently to each class?"))
    source: str = picked(st.radio(_("Classes from"), list(SOURCES), format_func=translated(SOURCES).__getitem__,
                             horizontal=True, key="class_source"))
    if source == "images":
        show_bad_files(ctx.images)
    profile = {"file": from_file, "images": from_images, "folder": from_folders}[source](ctx)
    if profile is not None:
        charts(ctx, profile)


def charts(ctx: Context, profile: Profile) -> None:
    gates = [g for g in ctx.loaded.gates if g.name in profile.gate_names]
    gate_names = [g.name for g in gates]
    scale_index = 0
    if len(profile.scales) > 1:
        zoom = st.select_slider(_("Scale (zoom) of the profiled images"), profile.scales, key="profile_scale",
                                format_func=lambda s: f"{s:g}×")
        scale_index = profile.scale_index(zoom)
    present = class_stats.present_classes(profile, scale_index)
    names = profile.class_names
    left, middle, right = st.columns([2, 2, 1])
    blocks = left.multiselect(_("Blocks (the paper: last of each stage, all of the last stage)"), gate_names,
                              placeholder=_("Choose blocks"),
                              default=class_stats.paper_default_blocks(gates), key="compare_blocks")
    classes = middle.multiselect(_("Classes"), present, default=present[:10], format_func=lambda k: names[k], placeholder=_("Choose classes"),
                                 key=f"compare_classes_{len(names)}")
    all_in_colour, no_class = _("none: all in colour"), _("no class")
    highlight = right.selectbox(_("Highlight a class"), [None, *classes], key="highlight",
                                format_func=lambda k: all_in_colour if k is None else names[k])
    with st.expander(_("Display options")):
        cols = st.columns(4)
        band = cols[0].selectbox(_("±std band for"), [None, *classes], key="band",
                                 format_func=lambda k: no_class if k is None else names[k])
        n_channels = cols[1].number_input(_("Channels per block"), 5, 2048, class_stats.PAPER_CHANNELS,
                                          key="n_channels")
        sort = cols[2].checkbox(_("Sort channels by the all-class mean"), key="sort_channels_compare")
        centred = cols[3].checkbox(_("Similarity after removing what all classes share"), value=True, key="centred")
        sim_block = st.selectbox(_("Block for the similarity matrix"), blocks or gate_names,
                                 index=len(blocks or gate_names) - 1, key="sim_block")
    counts = profile.counts(scale_index)
    images = int(counts[classes].sum()) if classes else 0
    if profile.data:
        source = _("profile of {model}, {dataset}").format(model=markdown_text(profile.model), dataset=markdown_text(dataset_name(profile.data)))
    else:
        source = _("profile of {model}").format(model=markdown_text(profile.model))
    summary = ngettext("{images} image in {classes} classes ({source}).",
                       "{images} images in {classes} classes ({source}).", images).format(
        images=images, classes=len(classes), source=source)
    st.caption(summary)
    with st.expander(_("The paper's finding, and this model's"), expanded=True):
        st.markdown(compare.paper_comparison(profile, present, scale_index))
    options = compare.CompareOptions(blocks=blocks, classes=classes, scale_index=scale_index, band_class=band,
                                     channels=int(n_channels), sort=sort, similarity_block=sim_block,
                                     centred=centred, highlight=highlight)
    show_charts(compare.compare_charts(profile, options), ctx.untrained, key_prefix="cmp_")
    lang = current_language()  # Streamlit makes the file after the run, when no language is set

    def compare_report() -> bytes:
        with language(lang):
            return report.compare_report(ctx.loaded, profile, options, summary).encode("utf-8")

    st.download_button(
        _("⬇ Report to hand out (HTML)"), key="compare_report", on_click="ignore", mime="text/html",
        file_name=f"attnviz_{ctx.loaded.name}_classes_report.html", data=compare_report,
        help=_("One file with the paper's finding beside this model's, every chart of this page (interactive) "
               "and the numbers behind them; it opens offline"))


def from_file(ctx: Context) -> Profile | None:
    shipped = shipped_profile(ctx.model)
    with st.expander(_("Use another saved profile")):
        upload = st.file_uploader(_("A class profile (.safetensors, made with `attnviz profile`)"),
                                  type=["safetensors"], key="profile_upload",
                                  max_upload_size=server_limits().weights_mb)
    if upload is not None:
        return profile_from_bytes(upload.getvalue(), upload.name, ctx.loaded)
    if shipped is None:
        st.info(_("No class profile ships with **{model}**. Upload one made with "
                  "`attnviz profile DATA --model {model}`, or choose *labelled images* or "
                  "*folders of class images* above.").format(model=ctx.loaded.name))
        return None
    st.caption(_("Profile shipped with the model ({model}).").format(model=ctx.loaded.name))
    return shipped


def from_images(ctx: Context) -> Profile | None:
    analysed = ctx.analysed()
    if not analysed:
        if not ctx.good_images:
            no_images_hint()
        return None
    st.caption(_("Each image counts for the class in its *label* column: the predicted class by "
                 "default; type another label to correct it. The *preprocessing* column says how the model's "
                 "input was made from the copy of the photo this server keeps (its centre, at most 2:1, short "
                 "side at most 512 pixels): *timm* is the model's own timm evaluation transform, *crop-first* "
                 "the memory-saving path for extreme strips, within a few grey levels of it."))
    table = st.data_editor(
        {"image": [im.name for im, __ in analysed],
         "preprocessing": [preprocessing_path(ctx.loaded.transform, im.require_image().size) for im, __ in analysed],
         "label": [a.top(ctx.loaded.class_names, 1)[0].label for __, a in analysed]},
        disabled=["image", "preprocessing"], hide_index=True, key="labels", width="stretch",
        column_config={"image": _("image"), "preprocessing": _("preprocessing"), "label": _("label")})
    indices, names = class_stats.labelled_classes(table["label"])
    images = [im for im, __ in analysed]
    key = (ctx.model.key, tuple(im.digest for im in images), tuple(table["label"]))
    return profile_store().get(key, lambda: profile_images(
        ctx.loaded, [im.require_image() for im in images], indices, names, names=[im.name for im in images]))


@st.cache_resource(max_entries=8, show_spinner=False, hash_funcs=HASH)
def _seconds_per_image(model) -> float:
    return classfolders.seconds_per_image(model.loaded)


def choose_folders(limit: int) -> classfolders.ClassFolders | None:
    """The zip or data-root folder the visitor chooses, or None while nothing is chosen."""
    limits = server_limits()
    root = data_root()
    folders = root.class_folders() if root is not None else []
    origin = "zip"
    if folders:
        origin = picked(st.radio(_("Class folders from"), list(ORIGINS), horizontal=True, key="folder_origin",
                                 format_func=translated(ORIGINS).__getitem__))
    if origin == "root" and root is not None:  # offered only when the data root has folders
        chosen: str = picked(st.selectbox(_("Folder (one subfolder per class)"), folders, key="root_folder"))
        return classfolders.from_data_root(root, chosen, limit)
    upload = st.file_uploader(_("A zip of class folders (<class>/<image>)"), type=["zip"], key="class_zip",
                              max_upload_size=limits.weights_mb,
                              help=_("Read in memory, never unpacked on the server; at most "
                                     "{entries:,} entries and {megabytes} MB per image.").format(
                                  entries=limits.zip_entries, megabytes=limits.image_mb))
    if upload is None:
        st.caption(_("Zip a folder that holds one subfolder per class, each with its images, and drop it here."))
        return None
    return classfolders.from_zip(upload.getvalue(), upload.name, limits, limit)


def from_folders(ctx: Context) -> Profile | None:
    limits = server_limits()
    limit = st.number_input(_("Images per class (at most {most})").format(most=limits.per_class_images),
                            1, limits.per_class_images,
                            min(20, limits.per_class_images), step=10, key="per_class")
    folders = choose_folders(int(limit))
    if folders is None:
        return None
    for line in folders.left_out:
        st.warning(f"**{markdown_text(line)}**", icon=":material/warning:")
    key = (ctx.model.key, *folders.key)
    store = profile_store()
    if key not in store:
        estimate = len(folders) * _seconds_per_image(ctx.model)
        st.caption(ngettext("{images} image in {classes} classes; on this server about {seconds} s of computing.",
                            "{images} images in {classes} classes; on this server about {seconds} s of computing.",
                            len(folders)).format(images=len(folders), classes=len(folders.data.class_names),
                                                 seconds=max(1, round(estimate))))
        shared = store.in_flight(key)
        if not shared and not st.button(_("Compute the class profile"), type="primary", key="compute_profile"):
            return None
        note = st.empty()
        bar = st.progress(0.0, text=_("Another visitor is computing this same profile; it is shared when done …")
                          if shared else _("Waiting for the server …"))

        def waiting(ahead: int) -> None:
            note.info(_("The server computes {jobs} profile(s) at a time; {ahead} job(s) "
                        "ahead of yours. Yours starts as soon as they finish.").format(jobs=limits.heavy_jobs,
                                                                                       ahead=ahead))

        def show_progress(done: int, total: int) -> None:
            bar.progress(done / max(total, 1), text=_("Profiled {done} of {total} images").format(done=done, total=total))

        def compute() -> Profile:
            with job_queue().slot(on_wait=waiting):
                note.empty()
                return classfolders.profile_folders(
                    ctx.loaded, folders,
                    on_progress=show_progress)

        store.get(key, compute)
        bar.empty()
        note.empty()
    profile = store.get(key)
    for item in profile.skipped:
        st.warning(_("**{file}** was skipped: {reason}").format(file=markdown_text(item.get("file", item)),
                                                                  reason=markdown_text(item.get("reason", ""))),
                   icon=":material/warning:")
    return profile


# A page script: Streamlit runs this file for the page (``app.py`` registers it); imported
# anywhere else, there is no context and it draws nothing.
if (ctx := current_context()) is not None:
    guard(partial(page, ctx))  # partial binds the narrowed ctx; a lambda would re-read the Optional global
