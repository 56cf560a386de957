"""The SKNet scale experiment: zoom into an image and watch SK units shift toward the larger kernel.

SKNet (Li et al., 2019, Sec. 4.3) enlarges the object by centre-cropping and resizing back, then
compares the attention on the 5x5 path (b) with the 3x3 path (a): as objects grow, the mean
attention difference b - a of the early and middle SK units rises. ``zoom`` makes the enlarged
copies, ``scale_sweep`` analyses every image at every scale, and ``ScaleSweep`` summarises it.
"""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Sequence

import numpy as np
from PIL import Image

from ..errors import GateNotFound, InvalidChoice, InvalidZoom, ScaleNotFound
from ..gates import Gate
from ..i18n import _
from .inference import ImageAnalysis, analyse_images
from .statistics import mean_attention_difference
from ..models.zoo import LoadedModel


#: The SKNet paper's zoom factors.
FIXED_SCALES = (1.0, 1.5, 2.0)


def sweep_scales(extra: float | None = None) -> list[float]:
    """The paper's zooms plus ``extra`` (e.g. a slider's), sorted, without duplicates."""
    scales = set(FIXED_SCALES)
    if extra is not None:
        scales.add(round(float(extra), 2))
    return sorted(scales)


def model_view(loaded, image: Image.Image, factor: float) -> Image.Image:
    """``image`` zoomed by ``factor`` and cut as the model's preprocessing cuts it (the centre
    crop it sees, before the resize): what the Scale page shows."""
    zoomed = zoom(image, factor)
    crop = getattr(loaded.transform, "crop", None)  # CropFirst; timm's own transform for other inputs
    if crop is not None:
        return crop(zoomed)
    side = min(zoomed.size)
    left, top = (zoomed.width - side) // 2, (zoomed.height - side) // 2
    return zoomed.crop((left, top, left + side, top + side))


def zoom_factor(value: object) -> float:
    """``value`` as a zoom factor: a finite number >= 1.0 (1.0 = the image as it is). The one check
    of a zoom, for ``zoom``, ``scale_sweep`` and ``attnviz profile --scales``; InvalidZoom (an
    AttnvizError and a ValueError) names the value otherwise."""
    try:
        factor = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidZoom(_("zoom factor {factor} is not a number; use zoom factors such as 1.0, 1.5, 2.0").format(
            factor=repr(value)[:40])) from None
    if not np.isfinite(factor) or factor < 1.0:
        raise InvalidZoom(_("zoom factor must be a number >= 1.0 (1.0 = unchanged, 2.0 = objects twice "
                            "as large), got {factor}").format(factor=repr(value)[:40]))
    return factor


def zoom_factors(values: Sequence[object]) -> list[float]:
    """Each of ``values`` checked by ``zoom_factor``, at least one and none twice."""
    out: list[float] = []
    for value in values:
        factor = zoom_factor(value)
        if any(abs(factor - other) < 1e-6 for other in out):
            raise InvalidZoom(_("zoom factor {factor} is listed twice").format(factor=f"{factor:g}"))
        out.append(factor)
    if not out:
        raise InvalidZoom(_("no zoom factor given; use e.g. 1.0 or 1.0, 1.5, 2.0"))
    return out


def zoom(image: Image.Image, factor: float) -> Image.Image:
    """Enlarge the centre of ``image`` by ``factor``: keep the central 1/factor of each side and
    resize it back to the original size (bicubic). Factor 1.0 returns the image unchanged."""
    factor = zoom_factor(factor)
    if factor == 1.0:
        return image
    width, height = image.size
    crop_w, crop_h = width / factor, height / factor
    left, top = (width - crop_w) / 2, (height - crop_h) / 2
    # resize(box=...) crops with sub-pixel precision, so odd sizes stay centred.
    return image.resize((width, height), Image.Resampling.BICUBIC,
                        box=(left, top, left + crop_w, top + crop_h))


@dataclass
class ScaleSweep:
    """Every image analysed at every zoom factor.

    analyses: scale -> one ImageAnalysis per image (same order at every scale). For a gate with
    two or more paths (SK, split attention) path 0 is a (the 3x3 kernel) and path 1 is b (the
    dilated "5x5" kernel), as in ``attnviz.analysis.inference``.
    """

    scales: list[float]
    gates: list[Gate]
    analyses: dict[float, list[ImageAnalysis]]

    def _gate(self, gate_name: str) -> Gate:
        for gate in self.gates:
            if gate.name == gate_name:
                return gate
        raise GateNotFound(gate_name, _("this sweep"), [g.name for g in self.gates])

    def _stack(self, scale: float, gate_name: str) -> np.ndarray:
        """(images, paths, C) values of one gate at one scale."""
        if scale not in self.analyses:
            raise ScaleNotFound(scale, _("this sweep"), self.scales)
        return np.stack([a.values[gate_name] for a in self.analyses[scale]]).astype(np.float64)

    @property
    def multi_path_gates(self) -> list[Gate]:
        """The gates that choose between paths (SK units, split attention with radix >= 2)."""
        return [g for g in self.gates if g.compares_paths]

    def mean_diff(self, scale: float) -> dict[str, float]:
        """SKNet's mean attention difference per multi-path gate: mean over channels and images
        of b - a (path 1 minus path 0). Positive means the larger kernel is preferred."""
        out = {}
        for gate in self.multi_path_gates:
            v = self._stack(scale, gate.name)
            out[gate.name] = float(mean_attention_difference(v).mean())
        return out

    def path_weights(self, scale: float, gate_name: str, path: int = 1) -> np.ndarray:
        """Mean over images of one path's weight per channel, shape (C,): by default b_c, the
        attention on the 5x5 kernel."""
        gate = self._gate(gate_name)
        if not 0 <= path < gate.paths:
            raise InvalidChoice(_("gate {gate} has {paths} path(s); path must be in 0..{last}, got {path}").format(
                gate=gate_name, paths=gate.paths, last=gate.paths - 1, path=path))
        return self._stack(scale, gate_name)[:, path].mean(axis=0)

    def table(self) -> list[dict]:
        """One row per scale and multi-path gate: scale, gate, mean_a, mean_b, mean_diff."""
        rows = []
        for scale in self.scales:
            for gate in self.multi_path_gates:
                v = self._stack(scale, gate.name)
                mean_a, mean_b = float(v[:, 0].mean()), float(v[:, 1].mean())
                rows.append({"scale": scale, "gate": gate.name, "mean_a": mean_a, "mean_b": mean_b,
                             "mean_diff": float(mean_attention_difference(v).mean())})
        return rows


def scale_sweep(loaded: LoadedModel, images: Sequence[Image.Image],
                scales: Sequence[float] = (1.0, 1.5, 2.0),
                names: Sequence[str] | None = None) -> ScaleSweep:
    """Analyse zoomed copies of ``images`` at each factor in ``scales`` (see ``zoom``)."""
    if len(images) == 0:
        raise InvalidChoice(_("scale_sweep needs at least one image"))
    scales = zoom_factors(scales)  # fail before any forward pass, not halfway through
    analyses = {s: analyse_images(loaded, [zoom(img, s) for img in images], names) for s in scales}
    return ScaleSweep(scales=scales, gates=list(loaded.gates), analyses=analyses)
