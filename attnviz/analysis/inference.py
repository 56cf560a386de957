"""Forward passes with capture: predictions and gate values for images."""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import torch
from PIL import Image

from ..capture.attention import AttentionCapture, CaptureResult
from ..models.zoo import LoadedModel


@dataclass(frozen=True)
class TopClass:
    """One of a model's most likely classes for an image.

    index: the class's output index; label: its name (the model's class names); prob: its softmax
    probability, in [0, 1].
    """

    index: int
    label: str
    prob: float


@dataclass
class ImageAnalysis:
    """What one image did to a model: class probabilities and every gate's values.

    values: gate name -> float32 array (paths, C); SE gates have paths = 1.
    """

    name: str
    probs: np.ndarray
    values: Mapping[str, np.ndarray]

    def top(self, class_names: Sequence[str], k: int = 5) -> list[TopClass]:
        """The ``k`` most likely classes, most likely first."""
        order = np.argsort(-self.probs)[:k]
        return [TopClass(int(i), class_names[i], float(self.probs[i])) for i in order]


def forward_with_capture(loaded: LoadedModel, batch: torch.Tensor,
                         neutralise: Iterable[str] = ()) -> tuple[torch.Tensor, CaptureResult]:
    """Softmax probabilities (float32, on device) and captured gate values for a batch."""
    with torch.inference_mode(), AttentionCapture(loaded.model, loaded.gates, neutralise) as cap, loaded.autocast():
        logits = loaded.model(batch)
    return logits.float().softmax(dim=1), cap.result()


def analyse_images(loaded: LoadedModel, images: Sequence[Image.Image], names: Sequence[str] | None = None,
                   neutralise: Iterable[str] = (), batch_size: int = 16) -> list[ImageAnalysis]:
    """Analyse RGB images in batches; returns one ImageAnalysis per image, in order."""
    names = list(names) if names is not None else [f"image {i + 1}" for i in range(len(images))]
    neutralise = tuple(neutralise)
    results: list[ImageAnalysis] = []
    for start in range(0, len(images), batch_size):
        chunk = images[start:start + batch_size]
        probs_t, captured = forward_with_capture(loaded, loaded.preprocess(chunk), neutralise)
        probs = probs_t.cpu().numpy()
        captured = captured.cpu()
        for i in range(len(chunk)):
            values = {g.name: captured[g.name][i].numpy() for g in loaded.gates if g.name in captured}
            results.append(ImageAnalysis(name=names[start + i], probs=probs[i], values=values))
    return results
