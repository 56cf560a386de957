"""The two families of attention kinds: channel gates and selections across paths.

Each kind lives in its own file (``se.py``, ``eca.py``, ``sk.py``, ``splat.py``, ``cbam.py``) as a
subclass of one of these and one instance of it: which module types it recognises (registered
there), what its values are (the value compared across images and classes, the neutral value of
a knock-out, the chart families that apply), which tensor it gates (for attribution), its summary
statistics and its walkthrough (the steps recorded, as the kind's own ``Walkthrough`` subclass).
What a person reads about a kind is its view (``attnviz/views/kinds/``). Figures, statistics,
capture, attribution, the CLI and the app ask the kind; nothing outside ``attnviz/gates/`` and
``attnviz/views/kinds/`` compares kind names or tests a kind's path count.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from .base import CHANNELWISE, EXCITATION, ArrayT, AttentionKind, KindName, StepKey, Walkthrough, as_numpy, max_error

if TYPE_CHECKING:  # the type only: attnviz.gates is below the analyses
    from ..analysis.inference import TopClass

__all__ = ["AttentionKind", "ChannelGateKind", "ChannelWalkthrough", "KindName", "SelectionKind",
           "SelectionWalkthrough", "StepKey", "Walkthrough", "as_numpy", "max_error"]


@dataclass(frozen=True, eq=False, kw_only=True)
class ChannelWalkthrough(Walkthrough):
    """A channel gate's steps: z (C,) the squeeze; s (C,) the gate; gate_fn the squashing function
    (the class name of the module that computes it)."""

    s: np.ndarray
    gate_fn: str


@dataclass(frozen=True, eq=False, kw_only=True)
class SelectionWalkthrough(Walkthrough):
    """A selection's steps: u_paths (paths, C) the GAP of each path; s_fused (C,) the GAP of their
    sum; z (d,) the compact vector; d its size; weights (paths, C) the weights of each path;
    gate_fn "softmax" (or "sigmoid" for a single path)."""

    u_paths: np.ndarray
    s_fused: np.ndarray
    d: int
    weights: np.ndarray
    gate_fn: str

    @property
    def paths(self) -> int:
        return len(self.weights)

    @property
    def a(self) -> np.ndarray:
        """The first path's weights (C,)."""
        return self.weights[0]

    @property
    def b(self) -> np.ndarray:
        """The second path's weights (C,) (a single path's, when there is only one)."""
        return self.weights[min(1, self.paths - 1)]


class ChannelGateKind(AttentionKind):
    """A per-channel sigmoid gate (SE and its relatives): one value s_c per channel."""

    chart_families = frozenset({EXCITATION, CHANNELWISE})

    def per_image(self, values: ArrayT) -> ArrayT:
        return values[0]

    def most_attended(self, w: Walkthrough) -> int:
        assert isinstance(w, ChannelWalkthrough)
        return int(np.argmax(w.s))

    @staticmethod
    def scaled(gate, prediction: TopClass, u: torch.Tensor, z: torch.Tensor, s: torch.Tensor,
               x_tilde: torch.Tensor, checks: dict[str, float]) -> dict:
        """The fields every channel gate's walkthrough shares, with the check x~ = s * u."""
        return dict(gate=gate, prediction=prediction, u_shape=tuple(u.shape), z=as_numpy(z), s=as_numpy(s),
                    u=as_numpy(u), v=as_numpy(x_tilde),
                    checks={**checks, "x~ = s * u": max_error(x_tilde, s[:, None, None] * u)})


class SelectionKind(AttentionKind):
    """A softmax across paths per channel (SK's kernels, ResNeSt's splits): fuse, then select."""

    def most_attended(self, w: Walkthrough) -> int:
        assert isinstance(w, SelectionWalkthrough)
        return int(np.argmax(w.weights[-1]))

    @staticmethod
    def selected(gate, prediction: TopClass, paths: torch.Tensor, weights: torch.Tensor, z: torch.Tensor,
                 v: torch.Tensor, gate_fn: str) -> dict:
        """The fields every selection's walkthrough shares: ``paths`` (P, C, H, W), ``weights`` (P, C)."""
        return dict(gate=gate, prediction=prediction, u_shape=tuple(paths.shape), z=as_numpy(z),
                    u_paths=as_numpy(paths.mean((2, 3))), s_fused=as_numpy(paths.sum(0).mean((1, 2))),
                    d=z.numel(), weights=as_numpy(weights), gate_fn=gate_fn, u=as_numpy(paths), v=as_numpy(v))

