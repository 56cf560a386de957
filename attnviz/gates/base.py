"""The neutral core of the attention kinds: ``AttentionKind``, ``Gate`` and ``Walkthrough``.

The kinds (``se.py``, ``eca.py``, ``sk.py``, ``splat.py``, ``cbam.py``) subclass these, the
registry (``registry.py``) maps module types to them, and ``kind.py`` holds the two families
(channel gates, selections across paths). Nothing here imports ``kind.py`` or ``registry.py``, so
the package has no import circle; and nothing in ``attnviz.gates`` imports ``attnviz.i18n``: what
a person reads about a kind (its lesson, chart panels, labels, captions) is the kind's view in
``attnviz/views/kinds/``, looked up by the kind's ``name``.

A gate's values are always (paths, C): paths = 1 for a channel gate (SE, ECA, CBAM's channel
half), the kernel paths for SK, the radix splits for split attention.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, TypeVar

import numpy as np
import torch
import torch.nn as nn

from ..analysis.statistics import mean_attention_difference

if TYPE_CHECKING:  # the type only: attnviz.gates is below the analyses
    from ..analysis.inference import TopClass

ArrayT = TypeVar("ArrayT", torch.Tensor, np.ndarray)

#: The name of a kind (``AttentionKind.name``), as stored in JSON and profiles: "se", "eca", ...
KindName = str

#: A recorded step: (module path, "in" | "out").
StepKey = tuple[str, str]

#: The chart families a page can draw for a kind's gates (``AttentionKind.chart_families``).
EXCITATION = "excitation"     # one weight per channel between 0 and 1: strips, channel heatmaps
SELECTION = "selection"       # a choice between paths of different receptive fields: b against a
SPLITS = "splits"             # weights of splits of one convolution: per-split bars
CHANNELWISE = "channelwise"   # values that line up channel by channel between two models of a layout


class WalkthroughNotCovered(Exception):
    """The walkthrough does not describe this gate. ``reason`` is a neutral key that the kind's
    view turns into a sentence for the reader ("variant": a form the kind's steps do not follow;
    others are the kind's own, e.g. SE's "add_maxpool")."""

    def __init__(self, gate: Gate, reason: str = "variant") -> None:
        self.gate, self.reason = gate, reason
        super().__init__(f"the walkthrough does not cover gate {gate.name} (variant {gate.variant!r}, {reason})")


@dataclass(frozen=True, eq=False)
class Walkthrough:
    """One gate's steps for one image (float32 numpy arrays, batch dimension removed): what every
    kind records. Each kind returns its own subclass with its steps' fields.

    gate, kind; prediction (the model's top-1 class for the image); u_shape (the gated feature map: (C, H, W) for
    a channel gate, (paths, C, H, W) for a selection); z; u the gated feature map, v the block's
    gated output (C, H, W); checks (name of an identity -> largest absolute error on this image).
    """

    gate: Gate
    kind: AttentionKind
    prediction: TopClass
    u_shape: tuple[int, ...]
    z: np.ndarray
    u: np.ndarray
    v: np.ndarray
    checks: dict[str, float] = field(default_factory=dict)

    @property
    def channels(self) -> int:
        return self.gate.channels


@dataclass(frozen=True)
class ValueSummary:
    """One image's values of one gate, summarised: mean, std (population), min and max over every
    value. A kind returns this or a subclass with its own statistics (``AttentionKind.summary``);
    ``to_dict`` is the JSON row and ``table_cells`` the text-table cells, so a reader never asks
    which kind it holds."""

    mean: float
    std: float
    min: float
    max: float

    def to_dict(self) -> dict[str, float | list[float]]:
        return {"mean": self.mean, "std": self.std, "min": self.min, "max": self.max}

    def table_cells(self) -> dict[str, str]:
        return {"mean": f"{self.mean:.3f}", "std": f"{self.std:.3f}", "min": f"{self.min:.3f}",
                "max": f"{self.max:.3f}"}


@dataclass(frozen=True)
class PathSummary(ValueSummary):
    """A gate with two or more paths: adds each path's mean over channels and SKNet's mean
    attention difference ``mean_diff`` = mean over channels of b - a (path 1 minus path 0)."""

    path_means: tuple[float, ...]
    mean_diff: float

    @property
    def mean_a(self) -> float:
        return self.path_means[0]

    @property
    def mean_b(self) -> float:
        return self.path_means[1]

    def to_dict(self) -> dict[str, float | list[float]]:
        return {**super().to_dict(), "mean_paths": list(self.path_means), "mean_a": self.mean_a,
                "mean_b": self.mean_b, "mean_diff": self.mean_diff}

    def table_cells(self) -> dict[str, str]:
        # a and b are the two compared paths; the spread over all paths mixes them and is left out
        return {"mean_a": f"{self.mean_a:.3f}", "mean_b": f"{self.mean_b:.3f}", "b-a": f"{self.mean_diff:+.3f}"}


def as_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().astype(np.float32)


def max_error(x: torch.Tensor, y: torch.Tensor) -> float:
    return float((x - y).abs().max())


class AttentionKind:
    """Base of the attention kinds: what a kind's values are and how its walkthrough is recorded.
    Subclasses set the class attributes and override the methods whose behaviour differs; one
    instance per kind is registered (``registry.register_kind``). Pages ask the kind these
    questions instead of testing flags or path counts."""

    name: ClassVar[KindName]
    title: ClassVar[str]                 # the kind's name in English ("Squeeze-and-Excitation"); pages show its view's
    prefix: ClassVar[str]                # gate names: "SE_2_1"
    paper: ClassVar[str]                 # "Hu et al., 2018"
    #: Which chart families apply to its gates (EXCITATION, SELECTION, SPLITS, CHANNELWISE).
    chart_families: ClassVar[frozenset[str]] = frozenset()

    def __repr__(self) -> str:
        return f"<attention kind {self.name}>"

    def __str__(self) -> str:
        return self.name

    def draws(self, family: str) -> bool:
        """Whether pages draw chart family ``family`` for this kind's gates."""
        return family in self.chart_families

    # ------------------------------------------------------------ values

    def compared_path(self, paths: int) -> int:
        """The path compared across images and classes (the gate's "value")."""
        return paths - 1

    def neutral_value(self, paths: int) -> float:
        """The value that leaves the block's features unweighted (what a knock-out sets)."""
        return 1.0 if paths == 1 else 1.0 / paths

    def compares_paths(self, paths: int) -> bool:
        """Whether a gate with ``paths`` paths has SKNet's mean attention difference (path 1 minus
        path 0): two paths or more."""
        return paths > 1

    def per_image(self, values: ArrayT) -> ArrayT:
        """One image's (paths, C) values in the papers' shape (a channel gate's: (C,))."""
        return values

    def summary(self, values: np.ndarray) -> ValueSummary:
        """Summary statistics of one image's values (paths, C): mean, std, min, max over every
        value; with two or more paths (``compares_paths``) a ``PathSummary`` that adds each path's
        mean and SKNet's mean attention difference mean(b - a) of paths 1 and 0."""
        v = np.asarray(values, dtype=np.float64)
        spread = dict(mean=float(v.mean()), std=float(v.std()), min=float(v.min()), max=float(v.max()))
        if not self.compares_paths(v.shape[0]):
            return ValueSummary(**spread)
        return PathSummary(**spread, path_means=tuple(float(x) for x in v.mean(axis=1)),
                           mean_diff=float(mean_attention_difference(v)))

    def gated_layer(self, module_path: str) -> str:
        """Path of the module whose output is the gated feature map (B, C, H, W)."""
        return module_path

    # ------------------------------------------------------------ walkthrough

    def walkthrough_steps(self, gate: Gate, module: nn.Module) -> list[StepKey]:  # noqa: ARG002  kinds that cover it override
        """The submodule inputs and outputs to record for the walkthrough of ``gate``."""
        raise WalkthroughNotCovered(gate)

    def walkthrough(self, gate: Gate, module: nn.Module, prediction: TopClass,  # noqa: ARG002  kinds that cover it override
                    recorded: dict[StepKey, torch.Tensor]) -> Walkthrough:  # noqa: ARG002
        """The Walkthrough of ``gate`` from the recorded tensors (batch dimension removed)."""
        raise WalkthroughNotCovered(gate)

    def most_attended(self, w: Walkthrough) -> int:
        """The channel the gate favours most on this image (the Learn page's first choice)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Gate:
    """One attention gate of a model, in depth order.

    name: the papers' convention, e.g. 'SE_2_1' (ResNet conv2_x is stage 2, blocks from 1).
    module: path of the attention module in the model ('layer1.0.se').
    source: path of the submodule whose output is captured ('layer1.0.se.gate').
    kind: what the gate computes (``AttentionKind``); ask it anything kind-specific.
    values per image: (paths, channels); channel gates have paths = 1.
    """

    name: str
    module: str
    source: str
    kind: AttentionKind
    variant: str
    channels: int
    paths: int
    stage: int | None = None
    block: int | None = None
    index: int = 0

    @property
    def neutral_value(self) -> float:
        return self.kind.neutral_value(self.paths)

    @property
    def compared_path(self) -> int:
        return self.kind.compared_path(self.paths)

    @property
    def compares_paths(self) -> bool:
        """Whether the gate has SKNet's mean attention difference (``AttentionKind.compares_paths``)."""
        return self.kind.compares_paths(self.paths)

    @property
    def gated_layer(self) -> str:
        return self.kind.gated_layer(self.module)

    def info(self) -> dict:
        """JSON-friendly description."""
        return {"name": self.name, "module": self.module, "source": self.source, "kind": self.kind.name,
                "variant": self.variant, "channels": self.channels, "paths": self.paths,
                "stage": self.stage, "block": self.block, "index": self.index}
