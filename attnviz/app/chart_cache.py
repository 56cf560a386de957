"""Charts built once per key and shared by every session, as immutable objects.

A class of thirty opening Explore on the same example photo, or one visitor whose widget change
reruns the page, would otherwise build the same plotly figures again each time (20–50 ms a
figure: most of a photo's server time). ``shared_charts`` builds a view's charts once per
``ChartKey`` (``attnviz.app.cache_keys``) and keeps them as ``FrozenChart``: the figure as its
plotly JSON text, which no session can alter. Each use gets a fresh figure from that text (about
1 ms, plotly's validation skipped: the text is what a validated figure wrote), so marking it
untrained or enlarging it for a projector changes that session's copy only.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from ..serving.jobs import SharedResults
from ..views.chart import Chart
from .cache_keys import ChartKey


@dataclass(frozen=True)
class FrozenChart:
    """A Chart (``attnviz.views.chart``) that cannot change: its figure is kept as JSON text."""

    key: str
    spec: str
    caption: str = ""
    wide: bool = True

    @classmethod
    def of(cls, chart: Chart) -> FrozenChart:
        return cls(chart.key, pio.to_json(chart.figure, validate=False), chart.caption, chart.wide)

    @property
    def figure(self) -> go.Figure:
        """A new figure each time (the caller's to change), numeric arrays as plotly.js typed arrays."""
        return go.Figure(json.loads(self.spec), _validate=False)

    def as_sent(self) -> go.Figure:
        """The figure for showing it unchanged: built of nothing, its ``to_dict`` (what Streamlit
        and plotly's writers read of a figure) is the text parsed. About 0.2 ms against 2–5 ms for
        ``figure`` and then Streamlit's deep copy of it; to change the figure, use ``figure``."""
        return _AsWritten(self.spec)

    def data_figure(self) -> go.Figure:
        """A new figure whose numeric arrays are numpy arrays again, for reading its numbers (CSV)."""
        return go.Figure(plain_arrays(json.loads(self.spec)), _validate=False)


class _AsWritten(go.Figure):
    """A figure that is its plotly JSON text (``FrozenChart.as_sent``)."""

    def __init__(self, spec: str) -> None:
        super().__init__(layout={"template": {}}, _validate=False)
        self._spec = spec

    def to_dict(self) -> dict:
        return json.loads(self._spec)


def plain_arrays(value: Any) -> Any:
    """``value`` with every plotly.js typed array ({"dtype", "bdata"[, "shape"]}, as plotly writes
    numpy arrays into JSON) decoded back to a numpy array."""
    if isinstance(value, dict):
        if "bdata" in value and "dtype" in value:
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
            shape = value.get("shape")
            return array.reshape([int(n) for n in shape.split(",")]) if shape else array
        return {k: plain_arrays(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_arrays(v) for v in value]
    return value


def shared_charts(store: SharedResults, key: ChartKey, build: Callable[[], Sequence[Chart]]) -> tuple[FrozenChart, ...]:
    """The charts of ``key``: built by ``build`` the first time any session asks (a session asking
    while another builds waits for that build), then frozen and shared. ``build`` must depend on
    nothing that ``key`` does not name."""
    return store.get(key, lambda: tuple(FrozenChart.of(chart) for chart in build()))
