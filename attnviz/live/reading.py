"""What one analysed video frame shows: its top-5, the chosen gate's values per channel, and a
summary of every gate, each asked of the gate's own kind (no kind names compared here).

A frame goes through ``attnviz.analysis.inference.analyse_images``: the model's own preprocessing
(crop-first) and the same capture as every other page, so a still frame reads as ``attnviz
inspect`` reads the same picture.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from ..analysis.inference import TopClass, analyse_images
from ..analysis.statistics import mean_attention_difference
from ..models.zoo import LoadedModel


@dataclass(frozen=True)
class LiveReading:
    """One analysed frame.

    channels: the chosen gate's compared value per channel (the kind's ``compared_path``: s for a
        channel gate, b for SK), shape (C,).
    mean: the mean of ``channels``.
    differences: SKNet's mean attention difference b − a of every gate with two or more paths
        (the kind's ``summary``), in depth order; empty for a model of channel gates only.
    rows: every single-path gate's value per channel (for the all-blocks heatmap), in depth order.
    selection: whether the chosen gate selects between paths (then the frame shows ``differences``
        as bars; else ``rows`` as a heatmap).
    """

    index: int
    captured_at: float
    analysed_at: float
    top: list[TopClass]
    gate: str
    paths: int
    channels: np.ndarray
    mean: float
    differences: dict[str, float] = field(default_factory=dict)
    rows: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def selection(self) -> bool:
        return self.gate in self.differences  # its kind compares paths (``AttentionKind.compares_paths``)

    def series(self) -> dict[str, float]:
        """The values the page's chart follows over time: each unit's b − a when the chosen gate
        selects between paths, else the chosen gate's mean value."""
        return dict(self.differences) if self.selection else {self.gate: self.mean}


def as_image(frame: np.ndarray) -> Image.Image:
    """An (H, W, 3) uint8 RGB frame as a PIL image (no copy of the pixels is kept)."""
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"a video frame must be (H, W, 3) uint8 RGB, got {frame.shape} {frame.dtype}")
    return Image.fromarray(frame, "RGB")


def read_frame(loaded: LoadedModel, frame: np.ndarray, gate: str, index: int = 0, captured_at: float = 0.0,
               analysed_at: float | None = None, k: int = 5) -> LiveReading:
    """Analyse one RGB frame with ``loaded`` and read what the live page shows for ``gate``."""
    chosen = loaded.gate(gate)
    analysis = analyse_images(loaded, [as_image(frame)], names=[f"frame {index}"])[0]
    differences, rows = {}, {}
    for g in loaded.gates:
        values = analysis.values[g.name]                           # (paths, C)
        if g.compares_paths:
            differences[g.name] = float(mean_attention_difference(values))
        else:
            rows[g.name] = values[g.kind.compared_path(g.paths)].astype(np.float32)
    channels = analysis.values[gate][chosen.kind.compared_path(chosen.paths)].astype(np.float32)
    return LiveReading(index=index, captured_at=captured_at, analysed_at=captured_at if analysed_at is None else analysed_at,
                       top=analysis.top(loaded.class_names, k), gate=gate, paths=chosen.paths, channels=channels,
                       mean=float(channels.mean()), differences=differences, rows=rows)
