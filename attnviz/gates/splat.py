"""ResNeSt split attention (Zhang et al., 2020): a softmax across the radix splits (a sigmoid when
radix = 1).

The gate lives in ``SplitAttn.rsoftmax`` (timm's ``RadixSoftmax``), whose output (B, radix * C)
is laid out radix-major after its transpose, so it reshapes to (B, radix, C) in the channel order
of the block's output. Radix 1 is an SE-like sigmoid gate, radix 2 a softmax over two splits in
SK's form (but every split is the same convolution: no choice of receptive field). Its lesson,
panels and labels are ``attnviz/views/kinds/splat.py``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn as nn
from timm.layers.split_attn import SplitAttn

from .base import SPLITS, StepKey, max_error
from .kind import SelectionKind, SelectionWalkthrough
from .registry import GateType, register_gate

if TYPE_CHECKING:  # the type only: attnviz.gates is below the analyses
    from ..analysis.inference import TopClass


@dataclass(frozen=True, eq=False, kw_only=True)
class SplitWalkthrough(SelectionWalkthrough):
    """Split attention's steps: u_paths (radix, C) GAP of each split; s_fused (C,) GAP of their
    sum; z (d,) after fc1 + BN + ReLU; weights (radix, C) the radix softmax (sigmoid when radix = 1)."""

    @property
    def radix(self) -> int:
        return self.paths


class SplitAttention(SelectionKind):
    name = "splat"
    title = "Split attention"
    prefix = "SPLAT"
    paper = "Zhang et al., 2020"
    chart_families = frozenset({SPLITS})

    def walkthrough_steps(self, gate, module: nn.Module) -> list[StepKey]:  # noqa: ARG002  AttentionKind interface, called positionally
        m = gate.module
        return [(f"{m}.act0", "out"), (f"{m}.fc1", "in"), (f"{m}.act1", "out"), (f"{m}.rsoftmax", "out"),
                (m, "out")]

    def walkthrough(self, gate, module: nn.Module, prediction: TopClass, rec: dict[StepKey, torch.Tensor]) -> SplitWalkthrough:  # noqa: ARG002  AttentionKind interface, called positionally
        m, radix, channels = gate.module, gate.paths, gate.channels
        conv_out = rec[(f"{m}.act0", "out")]                     # (radix * C, H, W), radix-major
        splits = conv_out.reshape(radix, channels, *conv_out.shape[-2:])
        weights = rec[(f"{m}.rsoftmax", "out")].reshape(radix, channels)
        z = rec[(f"{m}.act1", "out")].flatten()
        v = rec[(m, "out")]
        checks = {"s = GAP(sum of splits)": max_error(splits.sum(0).mean((1, 2)), rec[(f"{m}.fc1", "in")].flatten()),
                  "V = sum_r w_r U_r": max_error(v, (weights[:, :, None, None] * splits).sum(0))}
        if self.compares_paths(radix):  # a softmax: the weights of a channel add up to 1
            checks["sum_r w_r = 1"] = max_error(weights.sum(0), torch.ones_like(weights[0]))
        return SplitWalkthrough(
            kind=self, **self.selected(gate, prediction, splits, weights, z, v,
                                       "softmax" if self.compares_paths(radix) else "sigmoid"),
            checks=checks)


SPLAT = SplitAttention()

register_gate(SplitAttn, GateType(
    SPLAT, "radix", source=lambda m: m.rsoftmax,
    channels=lambda m: m.fc2.out_channels // m.radix,
    paths=lambda m: m.radix))
