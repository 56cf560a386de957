"""Selective Kernel (Li et al., 2019): a softmax across kernel paths, per channel.

timm's ``SelectiveKernelAttn`` returns (B, paths, C, 1, 1); path 0 is the 3x3 path (a_c) and
path 1 the "5x5" path, which timm builds as a 3x3 with dilation 2 (b_c); a_c + b_c = 1. The
gated feature map V = a U1 + b U2 is made by its parent ``SelectiveKernel``. Its lesson, panels
and labels (the kernel sizes among them) are ``attnviz/views/kinds/sk.py``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn as nn
from timm.layers.selective_kernel import SelectiveKernelAttn

from .base import SELECTION, StepKey, WalkthroughNotCovered, max_error
from .kind import SelectionKind, SelectionWalkthrough
from .registry import GateType, register_gate

if TYPE_CHECKING:  # the type only: attnviz.gates is below the analyses
    from ..analysis.inference import TopClass


@dataclass(frozen=True, eq=False, kw_only=True)
class SKWalkthrough(SelectionWalkthrough):
    """SK's steps: u_paths (paths, C) GAP of each kernel path; s_fused (C,) = GAP(U1 + U2); z (d,)
    after fc + BN + ReLU; weights (paths, C) the softmax; a = weights[0] (the 3x3 path), b = weights[1]."""


class SelectiveKernel(SelectionKind):
    name = "sk"
    title = "Selective Kernel"
    prefix = "SK"
    paper = "Li et al., 2019"
    chart_families = frozenset({SELECTION})

    def gated_layer(self, module_path: str) -> str:
        return module_path.rsplit(".", 1)[0]  # the parent SelectiveKernel returns V

    def walkthrough_steps(self, gate, module: nn.Module) -> list[StepKey]:  # noqa: ARG002  AttentionKind interface, called positionally
        if gate.variant != "sk":  # e.g. a selection found by its pattern: no timm submodules to follow
            raise WalkthroughNotCovered(gate)
        m = gate.module
        return [(m, "in"), (f"{m}.fc_reduce", "in"), (f"{m}.act", "out"), (m, "out"),
                (self.gated_layer(m), "out")]

    def walkthrough(self, gate, module: nn.Module, prediction: TopClass, rec: dict[StepKey, torch.Tensor]) -> SKWalkthrough:  # noqa: ARG002  AttentionKind interface, called positionally
        m = gate.module
        paths = rec[(m, "in")]                                   # (P, C, H, W): U1, U2, ...
        weights = rec[(m, "out")].reshape(gate.paths, gate.channels)
        z = rec[(f"{m}.act", "out")].flatten()
        v = rec[(self.gated_layer(m), "out")]
        return SKWalkthrough(
            kind=self, **self.selected(gate, prediction, paths, weights, z, v, "softmax"),
            checks={"s = GAP(U1 + U2)": max_error(paths.sum(0).mean((1, 2)), rec[(f"{m}.fc_reduce", "in")].flatten()),
                    "a + b = 1": max_error(weights.sum(0), torch.ones_like(weights[0])),
                    "V = a U1 + b U2": max_error(v, (weights[:, :, None, None] * paths).sum(0))})


SK = SelectiveKernel()

register_gate(SelectiveKernelAttn, GateType(
    SK, "sk", source=lambda m: m,
    channels=lambda m: m.fc_select.out_channels // m.num_paths,
    paths=lambda m: m.num_paths))
