"""A report to hand out: one self-contained HTML file with the photos (thumbnails), their top-5,
every chart of a page as an interactive plotly figure, the model's card summary and the numbers
behind each chart.

It opens offline: plotly.js is inlined once, gzip-compressed (4.8 MB of script become 2.0 MB of
base64, unpacked by the browser's own DecompressionStream before the charts are drawn), the
thumbnails are embedded as JPEG data URLs, and no external URL is referenced. Without JavaScript,
or in a browser too old to unpack, the numbers behind every chart are still there as tables. Used by ``attnviz report`` and by the app's download buttons (needs
the ``app`` extra: the charts are plotly figures).
"""
from __future__ import annotations

import base64
import csv
import gzip
import html
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from collections.abc import Sequence

from PIL import Image

from ..figures.export import figure_csv
from ..i18n import _, current_language, font_family, ngettext, sentences
from ..analysis.inference import ImageAnalysis, TopClass
from ..profiles.profile import Profile
from ..models.zoo import LoadedModel
from . import compare, explore
from .chart import Chart

THUMBNAIL_SIDE = 224
#: The type of a chart's drawing script: the browser leaves it alone until plotly.js is unpacked.
CHART_SCRIPT = "application/x-attnviz-chart"
#: Unpacks plotly.js (global scope, as a <script> would), then runs each chart's script.
LOADER = """<script>
(async () => {
  const status = document.getElementById('attnviz-status');
  try {
    const packed = Uint8Array.from(atob(document.getElementById('plotly-gz').textContent.trim()),
                                   (c) => c.charCodeAt(0));
    const code = await new Response(new Blob([packed]).stream()
                                    .pipeThrough(new DecompressionStream('gzip'))).text();
    const plotly = document.createElement('script'); plotly.text = code; document.head.appendChild(plotly);
    for (const chart of document.querySelectorAll('script[type="@CHART_SCRIPT@"]')) {
      const run = document.createElement('script'); run.text = chart.textContent; chart.replaceWith(run);
    }
    status.remove();
  } catch (error) {
    status.textContent = status.dataset.failed;
  }
})();
</script>""".replace("@CHART_SCRIPT@", CHART_SCRIPT)  # a placeholder: the script's braces stay as they are


@lru_cache(maxsize=1)
def packed_plotly() -> str:
    """plotly.js (the version plotly.py ships), gzip-compressed and base64-encoded."""
    from plotly.offline import get_plotlyjs

    return base64.b64encode(gzip.compress(get_plotlyjs().encode("utf-8"), 9, mtime=0)).decode("ascii")


def _chart_html(chart: Chart) -> str:
    """A chart's div and its drawing script, held back until plotly.js is unpacked."""
    markup = chart.figure.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False},
                                  default_width="100%")
    return re.sub(r"<script(\s[^>]*)?>", f'<script type="{CHART_SCRIPT}">', markup, count=1)


@dataclass
class ReportImage:
    """A photo in the report: its name, a picture of it and its top-k."""

    name: str
    picture: Image.Image
    top: list[TopClass]
    note: str | None = None


def _thumbnail(image: Image.Image, side: int = THUMBNAIL_SIDE) -> str:
    copy = image.convert("RGB")
    copy.thumbnail((side, side))
    buf = io.BytesIO()
    copy.save(buf, "JPEG", quality=82)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _table(rows: list[list[str]], header: list[str], limit: int = 400) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows[:limit])
    extra = len(rows) - limit
    more = ""
    if extra > 0:
        note = ngettext("… {n} more row in the CSV.", "… {n} more rows in the CSV.", extra).format(n=extra)
        more = f"<p class=note>{html.escape(note)}</p>"
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def _numbers(chart: Chart) -> str:
    """The numbers behind a chart, as a collapsible table and a CSV download (a data URL)."""
    data = figure_csv(chart.figure)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    header, rows = (rows[0], rows[1:]) if rows else ([], [])
    href = "data:text/csv;base64," + base64.b64encode(data).decode("ascii")
    summary = ngettext("The numbers behind this chart ({n} row)", "The numbers behind this chart ({n} rows)",
                       len(rows)).format(n=len(rows))
    return (f"<details><summary>{html.escape(summary)} — "
            f"<a download='{html.escape(chart.key)}.csv' href='{href}'>CSV</a></summary>{_table(rows, header)}</details>")


def model_summary(loaded: LoadedModel) -> str:
    """What the report says about the model: its card's description and figures, its gates."""
    parts = [html.escape(_("{model}: {kinds}, {gates} gates, {classes} classes, input {size} px.")).format(
        model=f"<b>{html.escape(loaded.name)}</b>", kinds=html.escape(loaded.kinds_text), gates=len(loaded.gates),
        classes=len(loaded.class_names), size=loaded.input_size)]
    meta = loaded.meta
    if meta is not None and meta.description_text:
        parts.append(html.escape(meta.description_text))
    if meta is not None and meta.top1 is not None:
        parts.append(html.escape(_("Top-1 on its validation split: {top1:.1f} %.").format(top1=100 * meta.top1)))
    if loaded.source == "random":
        untrained = _("Untrained: random weights.")
        parts.append(f"<b>{html.escape(untrained)}</b> "
                     + html.escape(_("The charts show the architecture, not learned attention.")))
    return sentences(*parts)


def light_markdown(text: str) -> str:
    """The pages' short markdown (paragraphs, **bold**, *italics*) as HTML, everything else escaped;
    a backslash-escaped character (a name put in as ``literal.markdown_text``) is that character,
    never markup."""
    paragraphs = []
    for block in (b for b in text.split("\n\n") if b.strip()):
        # Escaped characters out of the way of the markup (private-use stand-ins), back at the end.
        held = re.sub(r"\\([!-/:-@\[-`{-~])", lambda m: chr(_HELD + ord(m.group(1))), block.strip())
        escaped = html.escape(held)
        escaped = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", escaped)
        escaped = re.sub(r"\*(.+?)\*", r"<i>\1</i>", escaped)
        escaped = re.sub(f"[{chr(_HELD)}-{chr(_HELD + 127)}]", lambda m: html.escape(chr(ord(m.group(0)) - _HELD)),
                         escaped)
        paragraphs.append(f"<p>{escaped}</p>")
    return "".join(paragraphs)


_HELD = 0xE000  # Unicode's private use area: no page text has these


def report_html(title: str, loaded: LoadedModel, images: Sequence[ReportImage], charts: Sequence[Chart],
                intro: str = "") -> str:
    """The report as one HTML document (a string)."""
    photos = "".join(
        f"<figure><img src='{_thumbnail(im.picture)}' alt='{html.escape(im.name)}'>"
        f"<figcaption><b>{html.escape(im.name)}</b>"
        + (f"<br><span class=note>{html.escape(im.note)}</span>" if im.note else "")
        + _table([[t.label, f"{t.prob:.1%}"] for t in im.top], [_("class"), _("probability")])
        + "</figcaption></figure>" for im in images)
    sections = []
    for chart in charts:
        figure = _chart_html(chart)
        caption = f"<p class=caption>{html.escape(chart.caption)}</p>" if chart.caption else ""
        sections.append(f"<section>{figure}{caption}{_numbers(chart)}</section>")
    footer = _("Made with attnviz. Every chart is interactive (hover, zoom); this file needs no network.")
    drawing = _("Drawing the charts …")
    failed = _("This browser cannot unpack the charts (it needs Chrome 80, Firefox 113, Safari 16.4 or newer); "
               "the numbers behind each chart are below it.")
    return f"""<!DOCTYPE html>
<html lang="{current_language()}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: {font_family()}; max-width: 1100px; margin: 2em auto;
       color: #222; line-height: 1.45; padding: 0 1em; }}
figure {{ display: inline-block; vertical-align: top; margin: 0 1.5em 1.5em 0; max-width: 260px; }}
img {{ max-width: 224px; border: 1px solid #ccc; }}
table {{ border-collapse: collapse; font-size: 0.85em; margin: 0.4em 0; }}
td, th {{ border: 1px solid #ddd; padding: 2px 6px; text-align: left; }}
section {{ margin: 2em 0; border-top: 1px solid #eee; padding-top: 1em; }}
.caption {{ color: #444; }} .note {{ color: #777; font-size: 0.85em; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{model_summary(loaded)}</p>
{light_markdown(intro)}
<div>{photos}</div>
<p id=attnviz-status class=note data-failed="{html.escape(failed)}">{html.escape(drawing)}</p>
{"".join(sections)}
<script type="application/gzip;base64" id="plotly-gz">{packed_plotly()}</script>
{LOADER}
<p class=note>{html.escape(footer)}</p>
</body></html>
"""


def explore_report(loaded: LoadedModel, analysed: Sequence[tuple[str, Image.Image, ImageAnalysis, str | None]],
                   profile: Profile | None = None, k: int = 5) -> str:
    """The Explore page as a report: (name, picture, analysis, note) per photo, every chart."""
    images = [ReportImage(name, picture, analysis.top(loaded.class_names, k), note)
              for name, picture, analysis, note in analysed]
    analyses = [entry[2] for entry in analysed]
    charts = explore.explore_charts(loaded, analyses, profile=profile)
    title = ngettext("attnviz: what {model} does with {n} photo", "attnviz: what {model} does with {n} photos",
                     len(images)).format(model=loaded.name, n=len(images))
    return report_html(title, loaded, images, charts)


def compare_report(loaded: LoadedModel, profile: Profile, options: compare.CompareOptions, source: str = "") -> str:
    """The Compare classes page as a report: the paper's finding beside this model's, and every
    chart of the chosen blocks and classes with the numbers behind it (a profile has no photos)."""
    charts = compare.compare_charts(profile, options)
    classes = options.classes or []
    title = ngettext("attnviz: how {model} treats {n} class", "attnviz: how {model} treats {n} classes",
                     len(classes)).format(model=loaded.name, n=len(classes))
    intro = compare.paper_comparison(profile, list(classes), options.scale_index)
    return report_html(title, loaded, [], charts, f"{source}\n\n{intro}" if source else intro)
