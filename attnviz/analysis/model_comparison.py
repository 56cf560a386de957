"""Two or three models on the same images, aligned by relative depth (Streamlit-free).

Models differ in depth (ResNet-18 has 8 gates, SE-ResNet-50 16) and in what their gates compute
(SE's excitation s, SK's weight b of the larger kernel), so they are compared on a common axis:
the *relative depth* of a gate is its index / (gates − 1), from 0 (first gate) to 1 (last); a
stage sits at the mean relative depth of its gates. Per model and stage the comparison keeps the
mean of each gate's compared value (``gate.kind.compared_path``) over channels and images.

Where two models are both channel-gate models (SE, ECA) with the same layout (same gate names
and channel counts, e.g. two SE-ResNet-18s trained differently), their excitations can be
compared channel by channel: per block, the Pearson correlation over channels of the image-mean
excitation, and its mean over the per-image correlations.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from itertools import combinations
from collections.abc import Sequence

import numpy as np
from PIL import Image

from ..errors import AttnvizError
from ..gates import CHANNELWISE, Gate
from ..i18n import _
from .inference import ImageAnalysis, TopClass, analyse_images
from ..views.kinds import view_of
from ..models.zoo import LoadedModel

#: How many models one comparison shows (more would not fit side by side).
MIN_MODELS, MAX_MODELS = 2, 3


def check_model_names(names: Sequence[str]) -> list[str]:
    """The names, stripped, when there are 2 or 3 different ones; else an AttnvizError."""
    names = [n.strip() for n in names if n.strip()]
    if len(set(names)) != len(names):
        raise AttnvizError(_("a model is named twice ({names}); compare 2 or 3 different models").format(
            names=", ".join(names)))
    if not MIN_MODELS <= len(names) <= MAX_MODELS:
        raise AttnvizError(_("compare {least} or {most} models, not {count} ({names}); "
                             "`attnviz models` lists them").format(least=MIN_MODELS, most=MAX_MODELS, count=len(names),
                                                                    names=", ".join(names) or _("none")))
    return names


def relative_depth(gate: Gate, gates: int) -> float:
    """index / (gates − 1): 0 for the first gate, 1 for the last (0 when there is only one)."""
    return gate.index / max(gates - 1, 1)


@dataclass
class StageStat:
    """One stage of one model: its gates' compared value, mean over channels, gates and images.

    depth: mean relative depth of the stage's gates. mean: mean over the gates of each gate's
    mean over channels and images. std: spread between images (std over images of the per-image
    mean over the stage's gates and channels; 0 for one image). neutral: the value that leaves
    the features unweighted (1 for a channel gate, 1/paths for a selection). paths: the gates'
    paths (1 for a channel gate).
    """

    stage: int | None
    label: str
    kind: str
    value: str
    depth: float
    gates: list[str]
    mean: float
    std: float
    neutral: float
    paths: int = 1      # of the stage's gates (1 for a channel gate, 2 for SK's kernels ...)


@dataclass
class GateStat:
    """One gate: its relative depth and its compared value's mean over channels and images."""

    name: str
    stage: int | None
    depth: float
    mean: float


@dataclass
class ModelSummary:
    """What one model did with the images: its top-k per image and its statistics by depth."""

    name: str
    source: str
    kinds: list[str]
    gates: int
    top: list[list[TopClass]]         # per image, the top-k
    stages: list[StageStat]
    gate_stats: list[GateStat]

    @property
    def untrained(self) -> bool:
        return self.source == "random"

    @property
    def value_names(self) -> str:
        """'s' or 'b' (or 's, b' for a mixed model): the compared values, for labels."""
        return ", ".join(dict.fromkeys(s.value for s in self.stages))


@dataclass
class BlockCorrelation:
    """Channel-wise agreement of two channel-gate models in one block (same gate, same C).

    r_mean_image: Pearson r over channels of the two models' image-mean excitations.
    r_per_image: Pearson r over channels on each image; r_image_mean: their mean (nan when
    any is undefined, e.g. a constant excitation).
    """

    gate: str
    stage: int | None
    block: int | None
    depth: float
    channels: int
    r_mean_image: float
    r_per_image: list[float]
    r_image_mean: float


@dataclass
class ModelComparison:
    images: list[str]
    models: list[ModelSummary]
    #: (model a, model b) -> one BlockCorrelation per block, for pairs with the same channel-gate layout.
    correlations: dict[tuple[str, str], list[BlockCorrelation]] = field(default_factory=dict)

    def model(self, name: str) -> ModelSummary:
        return next(m for m in self.models if m.name == name)

    def to_json(self) -> dict:
        """A JSON-ready dict; undefined numbers (a constant excitation's r, no image) are None."""
        return _finite({"images": self.images, "models": [asdict(m) for m in self.models],
                        "correlations": [{"models": list(pair), "blocks": [asdict(b) for b in blocks]}
                                         for pair, blocks in self.correlations.items()]})


def _finite(value):
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def compared_values(gate: Gate, analyses: Sequence[ImageAnalysis]) -> np.ndarray:
    """(images, C): the compared value of ``gate`` (s for SE, b for SK) on every image."""
    path = gate.kind.compared_path(gate.paths)
    return np.stack([np.asarray(a.values[gate.name], dtype=np.float64).reshape(gate.paths, -1)[path]
                     for a in analyses]) if analyses else np.zeros((0, gate.channels))


def _stage_key(gate: Gate) -> tuple:
    # Gates outside a recognised layout (stage None) are each their own point.
    return (gate.stage if gate.stage is not None else f"gate {gate.name}", gate.kind.name)


def summarise_model(loaded: LoadedModel, analyses: Sequence[ImageAnalysis], k: int = 5) -> ModelSummary:
    """Top-k per image and the per-gate and per-stage statistics on the relative-depth axis."""
    n = len(loaded.gates)
    gate_stats: list[GateStat] = []
    per_image: dict[str, np.ndarray] = {}
    groups: dict[tuple, list[Gate]] = {}
    for gate in loaded.gates:
        v = compared_values(gate, analyses)                 # (images, C)
        per_image[gate.name] = v.mean(axis=1)               # (images,)
        gate_stats.append(GateStat(gate.name, gate.stage, relative_depth(gate, n),
                                   float(v.mean()) if v.size else float("nan")))
        groups.setdefault(_stage_key(gate), []).append(gate)
    stages = []
    for (stage, _kind), gates in groups.items():
        first = gates[0]
        images = np.mean([per_image[g.name] for g in gates], axis=0)     # (images,)
        stages.append(StageStat(
            stage=stage if isinstance(stage, int) else None,
            label=_("stage {stage}").format(stage=stage) if isinstance(stage, int) else first.name,
            kind=first.kind.name,
            value=view_of(first).value_symbol(first.paths),
            depth=float(np.mean([relative_depth(g, n) for g in gates])), gates=[g.name for g in gates],
            mean=float(images.mean()) if images.size else float("nan"),
            std=float(images.std()) if images.size else float("nan"), neutral=float(first.neutral_value),
            paths=first.paths))
    return ModelSummary(name=loaded.name, source=loaded.source, kinds=[kd.name for kd in loaded.kinds], gates=n,
                        top=[a.top(loaded.class_names, k) for a in analyses], stages=stages, gate_stats=gate_stats)


def same_channel_layout(a: LoadedModel, b: LoadedModel) -> bool:
    """Both models are channel-gate models (SE-like) with the same gate names and channel counts."""
    def layout(m: LoadedModel):
        return [(g.name, g.channels) for g in m.gates]
    return bool(a.gates) and all(g.kind.draws(CHANNELWISE) for g in a.gates + b.gates) and layout(a) == layout(b)


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson r of two vectors; nan when either is constant."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.size < 2 or x.std() == 0 or y.std() == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def block_correlations(a: LoadedModel, analyses_a: Sequence[ImageAnalysis],
                       b: LoadedModel, analyses_b: Sequence[ImageAnalysis]) -> list[BlockCorrelation]:
    """Per block, how alike two same-layout channel-gate models excite their channels."""
    out = []
    for gate_a, gate_b in zip(a.gates, b.gates, strict=True):
        va, vb = compared_values(gate_a, analyses_a), compared_values(gate_b, analyses_b)
        per_image = [pearson(x, y) for x, y in zip(va, vb, strict=True)]
        out.append(BlockCorrelation(
            gate=gate_a.name, stage=gate_a.stage, block=gate_a.block, depth=relative_depth(gate_a, len(a.gates)),
            channels=gate_a.channels,
            r_mean_image=pearson(va.mean(axis=0), vb.mean(axis=0)) if len(va) else float("nan"),
            r_per_image=per_image, r_image_mean=float(np.mean(per_image)) if per_image else float("nan")))
    return out


def comparison_from_analyses(models: Sequence[LoadedModel], analyses: Sequence[Sequence[ImageAnalysis]],
                             k: int = 5) -> ModelComparison:
    """The comparison from analyses already made (``analyses[i]``: model i's, one per image, the
    images in the same order for every model), e.g. from the app's shared analysis cache."""
    if len(models) != len(analyses):
        raise ValueError(f"{len(models)} models but {len(analyses)} lists of analyses")
    names = [a.name for a in analyses[0]] if analyses else []
    comparison = ModelComparison(images=names, models=[summarise_model(m, a, k) for m, a in zip(models, analyses, strict=True)])
    for (i, a), (j, b) in combinations(enumerate(models), 2):
        if same_channel_layout(a, b):
            comparison.correlations[(a.name, b.name)] = block_correlations(a, analyses[i], b, analyses[j])
    return comparison


def compare_models(models: Sequence[LoadedModel], images: Sequence[Image.Image],
                   names: Sequence[str] | None = None, k: int = 5) -> ModelComparison:
    """Run the same RGB images through every model and compare them (see the module's text)."""
    return comparison_from_analyses(models, [analyse_images(m, images, names) for m in models], k)
