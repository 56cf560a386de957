"""Streamlit rendering shared by the app's pages: charts with their downloads, images and
per-file messages, progress bars, and the guard that keeps tracebacks off the page."""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Literal, TypeVar

import streamlit as st

from ..errors import AttnvizError
from ..figures.export import chart_config, figure_csv, figure_html, safe_filename
from ..i18n import _, ngettext
from ..figures.literal import markdown_text
from ..analysis.inference import ImageAnalysis
from ..serving.analyses import AnalysisCache
from ..serving.inputs import DecodedImage
from ..serving.models import ServedModel
from ..views.chart import Chart, mark_untrained
from .cache_keys import PhotoKey
from .chart_cache import FrozenChart
from .present import for_projector, presenting
from .session_keys import EXAMPLE, SAMPLES

Choice = TypeVar("Choice")
#: st.image's and st.plotly_chart's width: a number of pixels, or fill the column / fit the content
Width = int | Literal["stretch", "content"]


def picked(choice: Choice | None) -> Choice:
    """The option a radio or selectbox returns when it has a default (``index`` left at 0) over a
    non-empty list: Streamlit types it Optional for ``index=None``, which these widgets never use."""
    assert choice is not None, "a widget with a default returned no choice"
    return choice

log = logging.getLogger("attnviz.app")


def guard(body: Callable[[], None]) -> None:
    """Run a page body; an error shows a short message, never a traceback.

    AttnvizError messages are meant for people and are shown as their text (they name files and
    classes that visitors chose, so never as Markdown); anything else is logged (with its
    traceback, in the server's log) and summarised in one line.
    """
    try:
        body()
    except AttnvizError as exc:
        st.error(markdown_text(str(exc)))
    except Exception as exc:  # noqa: BLE001 - the page must survive any failure
        log.exception("page failed")
        st.error(_("Something went wrong while drawing this page ({error}: {message}). "
                   "Try another image or model; the server log has the details.").format(
                       error=type(exc).__name__, message=markdown_text(exc)))


def show_chart(chart: Chart | FrozenChart, untrained: bool = False, key_prefix: str = "", selectable: bool = False):
    """One interactive chart and its caption; its exports in one place: plotly's toolbar (PNG)
    and one "data" menu (CSV of the plotted numbers, the chart as an offline HTML page).
    ``selectable``: clicking a point reruns the app; returns the selected points (else None).
    A FrozenChart (shared by every session) gives this run a figure of its own to mark."""
    try:
        return _show_chart(chart, untrained, key_prefix, selectable)
    except Exception as exc:  # noqa: BLE001 - one chart's failure leaves the others on the page
        log.exception("chart %s failed", chart.key)
        st.warning(_("The chart *{title}* could not be drawn ({error}); the other charts are unaffected.").format(
            title=chart.figure.layout.title.text or chart.key, error=type(exc).__name__), icon=":material/warning:")


def _show_chart(chart: Chart | FrozenChart, untrained: bool, key_prefix: str, selectable: bool = False):
    if isinstance(chart, FrozenChart) and not untrained and not presenting():
        fig = chart.as_sent()  # shown as it was built: nothing to make but the message
        whole = lambda: chart.figure  # noqa: E731 - the full figure, only if its page is downloaded
    else:
        fig = chart.figure  # a FrozenChart's: a new copy, this run's to change
        fig = mark_untrained(fig) if untrained else fig
        if presenting():
            fig = for_projector(fig)
        whole = lambda: fig  # noqa: E731
    key = f"{key_prefix}{chart.key}"
    name = safe_filename(key)
    points = None
    if selectable:
        event = st.plotly_chart(fig, key=f"chart_{key}", config=chart_config(name, "png"), width="stretch",
                                on_select="rerun", selection_mode="points")
        points = (event.get("selection") or {}).get("points") if event else None
    else:
        st.plotly_chart(fig, key=f"chart_{key}", config=chart_config(name, "png"), width="stretch")
    left, right = st.columns([3, 1], vertical_alignment="top")
    if chart.caption:
        left.caption(chart.caption)
    with right.popover(_("⬇ data"), help=_("The plotted numbers (CSV) or the chart as a web page (HTML); "
                                           "the camera above the chart saves a PNG")):
        numbers = chart.data_figure if isinstance(chart, FrozenChart) else whole
        st.download_button(_("CSV: the numbers"), data=lambda: figure_csv(numbers()), file_name=f"{name}.csv",
                           mime="text/csv", key=f"csv_{key}", on_click="ignore")
        st.download_button(_("HTML: the chart"), data=lambda: figure_html(whole()), file_name=f"{name}.html",
                           mime="text/html", key=f"html_{key}", on_click="ignore")
    return points or None


def show_charts(charts: Sequence[Chart | FrozenChart], untrained: bool = False, key_prefix: str = "", columns: int = 2,
                selectable: Sequence[str] = ()) -> dict:
    """Wide charts take a row each; consecutive narrow ones share a row, ``columns`` at a time
    (``columns=1``: every chart takes the full width, e.g. inside a side-by-side column). Charts
    whose key is in ``selectable`` can be clicked; returns {key: selected points} for those."""
    picked: dict = {}
    if presenting():
        columns = 1  # presenter mode: every chart full width, one per screen

    def one(chart: Chart | FrozenChart) -> None:
        points = show_chart(chart, untrained, key_prefix, chart.key in selectable)
        if points:
            picked[chart.key] = points

    if columns == 1:
        for chart in charts:
            one(chart)
        return picked
    i = 0
    while i < len(charts):
        row = [charts[i]]
        while not row[0].wide and len(row) < columns and i + len(row) < len(charts) \
                and not charts[i + len(row)].wide:
            row.append(charts[i + len(row)])
        if len(row) == 1 and row[0].wide:
            one(row[0])
        else:
            for col, chart in zip(st.columns(columns), row, strict=False):
                with col:
                    one(chart)
        i += len(row)
    return picked


def show_bad_files(images: Sequence[DecodedImage]) -> None:
    """One message per file that could not be read, beside its name; a note for a file read with
    something ignored (a damaged EXIF orientation)."""
    for im in images:
        if not im.ok:
            st.warning(_("**{name}** was skipped: {error}").format(name=markdown_text(im.name),
                                                                   error=markdown_text(im.error)),
                       icon=":material/warning:")
        elif im.notes:
            st.caption(_("**{name}**: {notes}").format(name=markdown_text(im.name), notes="; ".join(im.notes)))


def analyse(cache: AnalysisCache, model: ServedModel,
            images: Sequence[DecodedImage]) -> list[tuple[DecodedImage, ImageAnalysis]]:
    """Cached analyses of the readable images, paired with them, with a progress bar while new
    ones are computed; an image whose analysis fails gets its message and the others go on."""
    good = [im for im in images if im.ok]
    bar = st.progress(0.0, text=ngettext("Analysing {n} image …", "Analysing {n} images …", len(good)).format(
        n=len(good))) if len(good) > 3 else None

    def report(done: int, total: int) -> None:
        if bar is not None:
            bar.progress(done / total, text=ngettext("Analysed {done} of {total} new image",
                                                     "Analysed {done} of {total} new images", total).format(
                done=done, total=total))

    failures: dict[str, str] = {}
    try:
        analyses = cache.analyse(model, good, progress=report, failures=failures)
    finally:
        if bar is not None:
            bar.empty()
    for im in good:
        if im.digest in failures:
            st.warning(_("**{name}**: {error}; the other images are unaffected.").format(
                name=markdown_text(im.name), error=markdown_text(failures[im.digest])), icon=":material/warning:")
    return list(zip([im for im in good if im.digest not in failures], analyses, strict=True))


def show_image(image: DecodedImage, caption: str | None = None, width: Width = "stretch") -> None:
    """An image's thumbnail; if it cannot be shown, a message in its place (its charts stay)."""
    try:
        st.image(shown_bytes(image), caption=caption if caption is not None else markdown_text(image.name),
                 width=width)  # st.image renders its caption as Markdown: the name as text
    except Exception as exc:  # noqa: BLE001 - one picture must not take the page down
        log.exception("showing %s failed", image.name)
        st.warning(_("**{name}** cannot be shown here ({error}); its charts are below.").format(
            name=markdown_text(image.name), error=type(exc).__name__), icon=":material/warning:")


def shown_bytes(image: DecodedImage) -> bytes:
    """The picture ``st.image`` sends for ``image``, encoded once per photo for every session (as
    Streamlit encodes a picture: JPEG at quality 100, PNG where it may be transparent), so a page
    that shows a photo again, or thirty pages showing the class's example, encode nothing."""
    picture = image.display or image.image
    if not image.digest:  # nothing names it: encoded for this run only
        return _encoded(picture)
    return _shown_bytes(PhotoKey(image.name, image.digest), picture)


@st.cache_resource(max_entries=64, show_spinner=False)
def _shown_bytes(key: PhotoKey, _picture) -> bytes:  # noqa: ARG001  the cache key: the photo's name and digest (_picture is not hashed)
    return _encoded(_picture)


def _encoded(picture) -> bytes:
    import io

    buffer = io.BytesIO()
    transparent = picture.mode in ("RGBA", "LA", "P", "PA")
    picture.save(buffer, format="PNG" if transparent else "JPEG", quality=100)
    return buffer.getvalue()


def use_example() -> None:
    st.session_state[SAMPLES] = [st.session_state[EXAMPLE]]


def no_images_hint() -> None:
    st.info(_("Upload photos in the sidebar (drag and drop, one or many), or pick sample images."))
    if EXAMPLE in st.session_state:
        st.button(_("Show an example image"), on_click=use_example, type="primary", key="example")


def images_ready(images: Sequence[DecodedImage]) -> bool:
    """Every page's image preamble: list the refused files, and hint at uploads when none is good.
    (Pages that open on a live example get it from the sidebar: ``app.py``'s page table.)"""
    show_bad_files(images)
    if not any(im.ok for im in images):
        no_images_hint()
        return False
    return True


def pick_image(images: Sequence[DecodedImage], key: str) -> DecodedImage | None:
    """One of the readable images (a picker when there are several), or None after the hint."""
    if not images_ready(images):
        return None
    good = [im for im in images if im.ok]
    if len(good) == 1:
        return good[0]
    names = [im.name for im in good]
    return good[names.index(picked(st.selectbox(_("Image"), names, key=key)))]
