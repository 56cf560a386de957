"""The values of the latest analysed frame, drawn into the returned video frame with numpy.

Drawn on every frame the camera sends (a few milliseconds), so the picture moves at the video's
rate while the values change at the model's rate. At the bottom of the frame:

* a channel gate (SE, ECA): one row per block of its value per channel (a small layers ×
  channels heatmap, every row stretched to the frame's width), then the chosen block's strip,
  taller;
* a selection between paths (SK, split attention): each unit's b − a as a bar from a zero line
  (up: the larger kernel gains; full height = ±``DIFF_RANGE``), then the chosen unit's b per
  channel as a strip.

Values in [0, 1] are coloured with viridis (dark blue 0, yellow 1). Top left: the top-1 class and
the analysed frames per second.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .reading import LiveReading

#: plotly's (and matplotlib's) viridis at ten evenly spaced points, interpolated to 256 entries.
_VIRIDIS = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b",
            "#fde725"]
_ANCHORS = np.array([[int(h[i:i + 2], 16) for i in (1, 3, 5)] for h in _VIRIDIS], dtype=np.float64)
LUT = np.stack([np.interp(np.linspace(0, 1, 256), np.linspace(0, 1, len(_ANCHORS)), _ANCHORS[:, c])
                for c in range(3)], axis=1).round().astype(np.uint8)

DIFF_RANGE = 0.1            # b − a drawn at full bar height (the bundled SK model's unit means stay within it)
BACKGROUND = np.array([20, 20, 20], dtype=np.uint8)
RISE, FALL = np.array([240, 140, 30], dtype=np.uint8), np.array([60, 130, 230], dtype=np.uint8)


def colours(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] (clipped) -> (n, 3) uint8 viridis colours."""
    v = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0), 0.0, 1.0)
    return LUT[np.round(v * 255).astype(np.int64)]


def strip(values: np.ndarray, width: int) -> np.ndarray:
    """(width, 3) colours: column x shows channel floor(x · C / width)."""
    values = np.asarray(values).reshape(-1)
    columns = (np.arange(width) * len(values)) // width
    return colours(values[columns])


@dataclass(frozen=True)
class Layout:
    """Where the panels go in an H × W frame: row ranges [top, bottom)."""

    height: int
    width: int
    strip: tuple[int, int]              # the chosen gate's strip
    panel: tuple[int, int]              # the heatmap rows, or the bars
    row_height: int                     # heatmap: pixels per block

    @classmethod
    def of(cls, height: int, width: int, reading: LiveReading) -> Layout:
        strip_h = max(6, height // 14)
        strip = (height - strip_h, height)
        if reading.selection:
            panel_h = max(16, height // 5)
            row_h = 0
        else:
            row_h = max(2, height // 60)
            panel_h = row_h * len(reading.rows)
        top = max(0, strip[0] - panel_h - 1)
        return cls(height, width, strip, (top, strip[0] - 1), row_h)

    @property
    def zero_line(self) -> int:
        """Bars: the row of b − a = 0."""
        return (self.panel[0] + self.panel[1]) // 2

    @property
    def half(self) -> int:
        """Bars: pixels from the zero line to full height (b − a = ±DIFF_RANGE)."""
        return (self.panel[1] - self.panel[0]) // 2 - 1

    def bar_columns(self, units: int) -> list[tuple[int, int]]:
        """Bars: [left, right) of each unit's bar, with a gap between bars."""
        step = self.width / max(units, 1)
        gap = max(1, int(step * 0.2))
        return [(int(i * step) + gap // 2, max(int(i * step) + gap // 2 + 1, int((i + 1) * step) - gap // 2))
                for i in range(units)]


def bar_extent(layout: Layout, difference: float) -> tuple[int, int]:
    """Rows [top, bottom) of the bar for one unit's b − a (clipped to ±DIFF_RANGE)."""
    length = int(round(min(abs(difference) / DIFF_RANGE, 1.0) * layout.half))
    zero = layout.zero_line
    return (zero - length, zero) if difference >= 0 else (zero + 1, zero + 1 + length)


def draw_overlay(frame: np.ndarray, reading: LiveReading | None, fps: float | None = None) -> np.ndarray:
    """A copy of the (H, W, 3) uint8 ``frame`` with ``reading`` drawn in; the frame unchanged
    (still a copy) before the first reading."""
    out = np.array(frame, dtype=np.uint8, copy=True)
    if reading is None:
        return out
    height, width = out.shape[:2]
    layout = Layout.of(height, width, reading)
    top, bottom = layout.panel
    out[top:layout.strip[1]] = BACKGROUND
    out[layout.strip[0]:layout.strip[1]] = strip(reading.channels, width)[None]
    if reading.selection:
        out[layout.zero_line] = 200
        for (left, right), difference in zip(layout.bar_columns(len(reading.differences)),
                                             reading.differences.values(), strict=True):
            first, last = bar_extent(layout, difference)
            out[first:last, left:right] = RISE if difference >= 0 else FALL
    else:
        for i, values in enumerate(reading.rows.values()):
            y = top + i * layout.row_height
            out[y:y + layout.row_height] = strip(values, width)[None]
    _label(out, reading, fps)
    return out


_FONT = None


def _font(size: int):
    global _FONT
    if _FONT is None or getattr(_FONT, "size", size) != size:
        _FONT = ImageFont.load_default(size=size)
    return _FONT


def _label(out: np.ndarray, reading: LiveReading, fps: float | None) -> None:
    """Top-1 and fps, top left, on a dark box; only that box goes through PIL."""
    if not reading.top:
        return
    best = reading.top[0]
    text = f"{best.label} {best.prob:.0%}" + (f" | {fps:.1f} fps" if fps is not None else "")
    height, width = out.shape[:2]
    size = max(10, height // 24)
    font = _font(size)
    box_w, box_h = min(width, int(font.getlength(text)) + 8), min(height, size + 8)
    patch = Image.fromarray(np.full((box_h, box_w, 3), BACKGROUND, dtype=np.uint8))
    ImageDraw.Draw(patch).text((4, 3), text, fill=(255, 255, 255), font=font)
    out[:box_h, :box_w] = np.asarray(patch)
