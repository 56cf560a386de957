"""The last seconds of live readings, for the page's chart (thread-safe: the analyser adds, the
page reads)."""
from __future__ import annotations

import threading
from collections import deque

import numpy as np


class RollingHistory:
    """(time, {series: value}) points of the last ``seconds``; older points are forgotten as new
    ones come, so memory stays bounded by the frame rate times the window."""

    def __init__(self, seconds: float = 10.0) -> None:
        if seconds <= 0:
            raise ValueError(f"the history window must be positive, got {seconds} s")
        self.seconds = float(seconds)
        self._points: deque[tuple[float, dict[str, float]]] = deque()
        self._lock = threading.Lock()

    def add(self, t: float, values: dict[str, float]) -> None:
        with self._lock:
            if self._points and t < self._points[-1][0]:
                raise ValueError(f"history points must come in time order ({t} after {self._points[-1][0]})")
            self._points.append((float(t), dict(values)))
            while self._points and self._points[0][0] < t - self.seconds:
                self._points.popleft()

    def __len__(self) -> int:
        with self._lock:
            return len(self._points)

    def clear(self) -> None:
        with self._lock:
            self._points.clear()

    def series(self, now: float | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Seconds relative to ``now`` (default: the newest point; so ≤ 0) and each series'
        values (NaN where a point lacks it, e.g. after the chosen gate changed)."""
        with self._lock:
            points = list(self._points)
        if not points:
            return np.zeros(0), {}
        now = points[-1][0] if now is None else now
        names = list(dict.fromkeys(name for _, values in points for name in values))
        times = np.array([t - now for t, _ in points])
        return times, {name: np.array([values.get(name, np.nan) for _, values in points]) for name in names}
