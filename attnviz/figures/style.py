"""Shared look of every figure: readable when projected in a classroom, consistent colours."""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import plotly.colors as pc
import plotly.graph_objects as go

from ..i18n import font_family

#: Gate values are probabilities in [0, 1]; a perceptually uniform scale keeps them comparable.
VALUE_SCALE = "Viridis"
#: 3x3 path (a) and dilated "5x5" path (b) of an SK unit, the same everywhere.
PATH_COLORS = ("#1f77b4", "#d62728")
REFERENCE_COLOR = "#222222"
FONT_SIZE = 14


def series_colors(n: int) -> list[str]:
    """n distinct colours for images, classes or scales (qualitative palette, cycled)."""
    palette = pc.qualitative.Plotly if n <= 10 else pc.qualitative.Alphabet
    return [palette[i % len(palette)] for i in range(n)]


def _literal(text: str) -> Callable[[re.Match[str]], str]:
    """A ``re.sub`` replacement that inserts ``text`` as it is (no backslash escapes)."""
    return lambda _m: text


def hover(template: str, **values: object) -> str:
    """A (translated) hover template with its ``{name}`` fields filled in; plotly's own ``%{...}``
    fields are left alone (``str.format`` would take them for its own)."""
    for key, value in values.items():
        template = re.sub(r"(?<!%)\{" + re.escape(key) + r"\}", _literal(str(value)), template)
    return template


def use_template(fig: go.Figure, name: str) -> go.Figure:
    """Give ``fig`` one of plotly's registered templates without validating it again.

    ``update_layout(template=name)`` validates and copies the whole template (every trace type's
    defaults) on each figure: about 30 ms, most of a chart's cost on a server drawing for a class.
    The registered templates are valid already; plotly gives a figure its default template the
    same way (``BaseFigure._initialize_layout_template``), with validation off for the assignment.
    """
    import plotly.io as pio

    layout = fig.layout
    layout._validate = False
    try:
        layout.template = pio.templates[name]
    finally:
        layout._validate = fig._validate
    return fig


#: The layout rule every chart follows, so that no text collides at any width and in any language:
#: the title wraps (never cut) to the width of the narrowest place a chart is shown (half of a
#: 1280-pixel page), the legend sits below the plot area (never over the title or subplot titles)
#: and the margins grow with the wrapped title and the legend's rows. Subplot titles wrap too
#: (``subplot_titles``). A figure of stacked panels gives each panel with several series a legend
#: of its own beside the panel (``panel_legends``), never one legend for all of them.
TITLE_UNITS = 44        # a title line, in widths of a Latin character (a CJK character counts 2)
LEGEND_UNITS = 48       # a legend row, likewise (entries add their symbol's width)
LINE_PX = 24            # one line of title or legend


def text_units(text: str) -> int:
    """Display width of ``text`` in Latin-character widths: CJK and full-width characters count 2."""
    import unicodedata

    plain = re.sub(r"<[^>]+>", "", text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in plain)


def wrap(text: str, units: int = TITLE_UNITS) -> str:
    """``text`` broken with <br> into lines of at most ``units`` (at spaces; CJK text, which has
    none, between any two characters); existing <br> are kept."""
    lines = []
    for paragraph in re.split(r"<br\s*/?>", text):
        line = ""
        tokens = re.findall(r"[^\s\u3000-\u9fff\uff00-\uffef]+\s*|[\u3000-\u9fff\uff00-\uffef]|\s+", paragraph)
        for token in tokens:
            if line and text_units(line + token.rstrip()) > units:
                lines.append(line.rstrip())
                line = token.lstrip()
            else:
                line += token
        lines.append(line.rstrip())
    return "<br>".join(lines)


def subplot_titles(titles, columns: int = 1) -> list[str]:
    """Subplot titles wrapped to their panel's share of the narrowest chart width."""
    return [wrap(t, max(16, TITLE_UNITS // columns)) for t in titles]


def panel_legends(fig: go.Figure, series_per_row: Sequence[int]) -> dict:
    """Layout of one legend per panel that has several series, beside that panel's top (legend,
    legend2 …): each legend lists only its own panel's series, never all of the figure's. The
    traces of row r are assigned to their legend here; returns the layout entries to apply."""
    layout, first = {}, 0
    legends = 0
    for row, count in enumerate(series_per_row, start=1):
        traces = fig.data[first:first + count]
        first += count
        if count < 2:
            continue
        legends += 1
        name = "legend" if legends == 1 else f"legend{legends}"
        for trace in traces:
            trace.legend = name
        top = fig.layout[f"yaxis{row if row > 1 else ''}"].domain[1]
        layout[name] = dict(orientation="v", x=1.01, xanchor="left", xref="paper", y=top, yanchor="top",
                            yref="paper", font=dict(size=12))
    return layout


def legend_rows(names: list[str], units: int = LEGEND_UNITS) -> int:
    """Rows a horizontal legend of these entries takes at the narrowest chart width."""
    rows, used = 1, 0
    for name in names:
        width = text_units(name) + 5  # the symbol and the gap
        if used and used + width > units:
            rows, used = rows + 1, 0
        used += width
    return rows


def finish(fig: go.Figure, title: str, height: int | None = None, **layout) -> go.Figure:
    """Common layout: white template, a wrapped title, large fonts, the legend below the plot and
    margins that fit both (TITLE_UNITS above); the font stack of the reader's language, so that
    Chinese and Japanese render in the chart and in its PNG/SVG export.

    Returns a new figure (callers use the one returned): the layout is merged into the figure's
    dict and the figure made again from it with plotly's validation off, since what ``fig`` holds
    was validated when it was set and the layout below is this function's own. Plotly's
    ``update_layout`` took 7 ms a call, most of a chart's cost on a server drawing for a class;
    the figure made again validates what is changed on it afterwards, as any figure."""
    title = wrap(title)
    lines = title.count("<br>") + 1
    legends = [t.name for t in fig.data if getattr(t, "showlegend", None) is not False and t.name]
    legend_shown = fig.layout.showlegend is not False and len(legends) > 1
    margin = dict(l=60, r=20, t=30 + LINE_PX * lines, b=60)
    asked_legend = dict(layout.get("legend") or {})
    beside = (asked_legend.get("x", fig.layout.legend.x) or 0) >= 1  # right of the plot area: kept
    if legend_shown and not beside:
        # Below the plot area, under the x axis's title, in the figure's own coordinates: it
        # never covers the title, subplot titles or data, and the margin makes room for its rows.
        # A position asked elsewhere (over the plot, above it) gives way to this rule.
        rows = legend_rows(legends)
        layout["legend"] = {**asked_legend, **dict(orientation="h", x=0, xanchor="left", y=0, yanchor="bottom",
                                                   yref="container")}
        margin["b"] = 70 + LINE_PX * rows
    asked = dict(layout.pop("margin", {}))
    # A chart's own margins are kept, but never below what the title and the legend need.
    margin = {**margin, **asked, "t": max(margin["t"], asked.get("t", 0)),
              "b": max(margin["b"], asked.get("b", 0)) if legend_shown else asked.get("b", margin["b"])}
    layout = {"margin": margin, **layout}
    family = font_family()
    # The title sits just above the plot area and pushes the top margin as far as its lines need
    # (plotly's title automargin); above subplot titles (annotations on the plot area's top edge)
    # it keeps their height free.
    top_labels = [a for a in fig.layout.annotations if a.yref == "paper" and a.yanchor == "bottom" and (a.y or 0) >= 0.9]
    clear = max([6 + LINE_PX * ((a.text or "").count("<br>") + 1) for a in top_labels], default=0)
    fig.layout.template = None  # given again below: not copied with the figure's dict
    # The traces' and the layout's own dicts (not ``fig.to_dict()``, which turns arrays into
    # plotly.js's base64 typed arrays: the figure keeps numpy arrays for whoever reads its numbers).
    spec = {"data": [trace.to_plotly_json() for trace in fig.data], "layout": fig.layout.to_plotly_json()}
    # A y axis's title longer than the plot is high would reach into the title: wrapped to it.
    plot_height = (height or spec["layout"].get("height") or 450) - margin["t"] - margin["b"]
    for name, axis in spec["layout"].items():
        if name.startswith("yaxis") and isinstance(axis, dict) and (axis.get("title") or {}).get("text"):
            domain = axis.get("domain") or (0, 1)
            units = max(12, int(plot_height * (domain[1] - domain[0]) / 9))
            axis["title"]["text"] = wrap(axis["title"]["text"], units)
    _merge(spec["layout"], dict(title=dict(text=title, x=0.01, xanchor="left", xref="container", y=1, yref="paper",
                                           yanchor="bottom", automargin=True, pad=dict(b=10 + clear)),
                                font=dict(size=FONT_SIZE, family=family),
                                hoverlabel=dict(font=dict(size=FONT_SIZE, family=family)), **layout))
    if height:
        spec["layout"]["height"] = height + margin["t"] - 60 + margin["b"] - 60
    import plotly.io as pio

    spec["layout"]["template"] = pio.templates["plotly_white"]  # as use_template gives it, before plotly's default
    out = go.Figure(spec, _validate=False)
    out._validate = out.layout._validate = True  # later changes are validated, as on any figure
    for trace in out.data:
        trace._validate = True
    return out


def _merge(base: dict, update: dict) -> None:
    """``update`` written into ``base`` as plotly's ``update_layout`` does: nested dicts merged,
    other values replaced; keys with underscores are plotly's paths (``title_text``: title.text)."""
    for key, value in update.items():
        if "_" in key and key not in go.Layout._valid_props:
            head, rest = key.split("_", 1)
            key, value = head, {rest: value}
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = dict(value) if isinstance(value, dict) else value
