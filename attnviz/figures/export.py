"""Getting figures out of the app: HTML, CSV of the plotted data, and PNG/SVG via the modebar.

PNG and SVG come from plotly.js in the browser (the modebar's camera button, configured by
``chart_config``): no kaleido, which would need a downloaded browser of its own.
"""
from __future__ import annotations

import csv
import io
import re
from typing import Any

import numpy as np
import plotly.graph_objects as go

from ..errors import InvalidChoice
from ..i18n import _

FORMATS = ("png", "svg")


def safe_filename(name: str) -> str:
    """'SE_5_2: excitation / image 1' -> 'SE_5_2_excitation_image_1'."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "figure"


def chart_config(filename: str, image_format: str = "png", scale: int = 2) -> dict[str, Any]:
    """plotly.js config: the camera button saves ``filename``.png/.svg at ``scale`` x resolution."""
    if image_format not in FORMATS:
        raise InvalidChoice(_("image format must be one of {formats}, not {format!r}").format(
            formats=FORMATS, format=image_format))
    return {"toImageButtonOptions": {"format": image_format, "filename": safe_filename(filename),
                                     "scale": scale},
            "displaylogo": False}


def figure_html(fig: go.Figure) -> bytes:
    """A self-contained interactive HTML page (plotly.js inlined, so it opens offline)."""
    return fig.to_html(include_plotlyjs=True, full_html=True).encode("utf-8")


def _column(values: Any) -> list:
    if values is None:
        return []
    array = np.asarray(values, dtype=object).reshape(-1)
    return [v.item() if hasattr(v, "item") else v for v in array]


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _axis_title(fig: go.Figure, trace, axis: str) -> str | None:
    """Title of the axis a trace is drawn on ('x' or 'y'), used as the CSV column name."""
    ref = getattr(trace, f"{axis}axis", None) or axis
    layout_axis = fig.layout[f"{axis}axis{ref[1:]}"] if len(ref) > 1 else fig.layout[f"{axis}axis"]
    text = layout_axis.title.text if layout_axis is not None else None
    return text or None


def _custom_names(trace, width: int) -> list[str]:
    """Names of a trace's customdata columns: ``trace.meta['custom']`` when the figure gives them
    (figures may also name the x and y columns with ``meta['x']`` and ``meta['y']``)."""
    meta = trace.meta if isinstance(trace.meta, dict) else {}
    names = list(meta.get("custom", []))
    return names + [f"detail{i + 1}" for i in range(len(names), width)]


def _trace_rows(fig: go.Figure, trace) -> list[dict]:
    """Tidy rows for one trace, columns named after the axes' titles."""
    name = trace.name or ""
    meta = trace.meta if isinstance(trace.meta, dict) else {}
    x_name = meta.get("x") or _axis_title(fig, trace, "x") or "x"
    y_name = meta.get("y") or _axis_title(fig, trace, "y") or "y"
    if y_name == x_name:
        y_name = f"{y_name} (y)"
    if trace.type == "image":
        z = np.asarray(trace.z, dtype=float)
        return [{"trace": name, "row": i, "column": j, "value": "/".join(f"{v:g}" for v in z[i, j])}
                for i in range(z.shape[0]) for j in range(z.shape[1])]
    if trace.type == "heatmap" and trace.z is not None:
        return _heatmap_rows(trace, name, x_name, y_name)
    return _point_rows(trace, name, x_name, y_name)


def _heatmap_rows(trace, name: str, x_name: str, y_name: str) -> list[dict]:
    """One row per finite cell; a stretched heatmap's repeated cells once, under their real index."""
    z = np.asarray(trace.z, dtype=float)
    xs = _column(trace.x) or list(range(z.shape[1]))
    ys = _column(trace.y) or list(range(z.shape[0]))
    value = (trace.colorbar.title.text if trace.colorbar and trace.colorbar.title else None) or "z"
    custom = np.asarray(trace.customdata) if trace.customdata is not None else None
    rows, last = [], None
    for i, j in zip(*np.nonzero(np.isfinite(z)), strict=True):
        if custom is not None and custom.shape == z.shape:
            # A stretched heatmap repeats a value over several columns; its customdata
            # holds the real index, so each value is written once, under that index.
            key = (i, _plain(custom[i, j]))
            if key == last:
                continue
            last = key
            rows.append({"trace": name, y_name: ys[i], _custom_names(trace, 1)[0]: key[1],
                         value: float(z[i, j])})
        else:
            rows.append({"trace": name, x_name: xs[j], y_name: ys[i], value: float(z[i, j])})
    return rows


def _point_rows(trace, name: str, x_name: str, y_name: str) -> list[dict]:
    """One row per point of a scatter, bar, box, ... trace, with its customdata columns."""
    xs, ys = _column(getattr(trace, "x", None)), _column(getattr(trace, "y", None))
    n = max(len(xs), len(ys))
    custom = getattr(trace, "customdata", None)
    custom = np.asarray(custom, dtype=object) if custom is not None else None
    rows = []
    for i in range(n):
        row = {"trace": name}
        if xs:
            row[x_name] = xs[i] if i < len(xs) else ""
        if ys:
            row[y_name] = ys[i] if i < len(ys) else ""
        if custom is not None and len(custom) == n:
            extra = list(custom[i]) if np.ndim(custom[i]) else [custom[i]]
            for column, value in zip(_custom_names(trace, len(extra)), extra, strict=False):
                row[column] = _plain(value)
        rows.append(row)
    return rows


def figure_rows(fig: go.Figure) -> list[dict]:
    """Every plotted value of ``fig`` as tidy rows (trace, then one column per axis/detail)."""
    rows: list[dict] = []
    for trace in fig.data:
        rows.extend(_trace_rows(fig, trace))
    return rows


def figure_csv(fig: go.Figure) -> bytes:
    """The data behind ``fig`` as CSV bytes, one row per plotted value."""
    rows = figure_rows(fig)
    columns = list(dict.fromkeys(key for row in rows for key in row)) or ["trace"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    return buffer.getvalue().encode("utf-8")
