"""CBAM's channel attention (Woo et al., 2018): s = sigmoid(MLP(AvgPool(u)) + MLP(MaxPool(u))),
x~_c = s_c u_c, one MLP (W1 ReLU(W0 .)) shared by both pooled descriptors.

Registered: timm's ``ChannelAttn`` (the channel half of ``CbamModule``, ``attn_layer='cbam'``). Not
covered: its subclass ``LightChannelAttn`` (``'lcbam'``), which calls ``F.sigmoid`` instead of its
gate module, so there is nothing to hook.
The spatial half that follows it in CBAM weighs positions, not channels, and is not a gate here.
Its lesson, panels and labels are ``attnviz/views/kinds/cbam.py``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np
import torch
import torch.nn as nn
from timm.layers.cbam import ChannelAttn

from .base import StepKey, WalkthroughNotCovered, as_numpy, max_error
from .kind import ChannelGateKind, ChannelWalkthrough
from .registry import GateType, register_gate

if TYPE_CHECKING:  # the type only: attnviz.gates is below the analyses
    from ..analysis.inference import TopClass


@dataclass(frozen=True, eq=False, kw_only=True)
class CBAMWalkthrough(ChannelWalkthrough):
    """CBAM's channel steps: z (C,) = AvgPool(u); z_max (C,) = MaxPool(u); mlp_avg, mlp_max (C,) the
    shared MLP's output for each; hidden the MLP's hidden units; reduction r = C / hidden."""

    z_max: np.ndarray
    mlp_avg: np.ndarray
    mlp_max: np.ndarray
    hidden: int
    reduction: float


class CBAMChannelAttention(ChannelGateKind):
    name = "cbam"
    title = "CBAM channel attention"
    prefix = "CBAM"
    paper = "Woo et al., 2018"

    def walkthrough_steps(self, gate, module: nn.Module) -> list[StepKey]:
        if type(module) is not ChannelAttn:  # timm's LightChannelAttn pools once and skips the gate module
            raise WalkthroughNotCovered(gate)
        m = gate.module
        # timm calls fc1, act, fc2 twice (average, then max); the recorder keeps each step's first call
        return [(m, "in"), (f"{m}.fc1", "in"), (f"{m}.fc2", "out"), (f"{m}.gate", "in"), (f"{m}.gate", "out"),
                (m, "out")]

    def walkthrough(self, gate, module: nn.Module, prediction: TopClass, rec: dict[StepKey, torch.Tensor]) -> CBAMWalkthrough:
        m, attn = gate.module, cast(ChannelAttn, module)
        u = rec[(m, "in")]                                       # (C, H, W)
        z = rec[(f"{m}.fc1", "in")].flatten()                    # AvgPool(u), the first pooled descriptor
        mlp_avg = rec[(f"{m}.fc2", "out")].flatten()
        mlp_max = rec[(f"{m}.gate", "in")].flatten() - mlp_avg   # the gate is fed MLP(avg) + MLP(max)
        s = rec[(f"{m}.gate", "out")].flatten()
        z_max = u.amax((1, 2))
        w0 = attn.fc1.weight.detach().float().flatten(1).to(u.device)
        w1 = attn.fc2.weight.detach().float().flatten(1).to(u.device)
        b0 = attn.fc1.bias.detach().float().to(u.device) if attn.fc1.bias is not None else 0.0
        b1 = attn.fc2.bias.detach().float().to(u.device) if attn.fc2.bias is not None else 0.0
        by_hand = w1 @ torch.relu(w0 @ z_max + b0) + b1
        return CBAMWalkthrough(
            kind=self, z_max=as_numpy(z_max), mlp_avg=as_numpy(mlp_avg), mlp_max=as_numpy(mlp_max),
            hidden=int(w0.shape[0]), reduction=u.shape[0] / w0.shape[0], gate_fn=type(attn.gate).__name__,
            **self.scaled(gate, prediction, u, z, s, rec[(m, "out")],
                          {"z = AvgPool(u)": max_error(z, u.mean((1, 2))),
                           "MLP(max) = W1 δ(W0 MaxPool(u))": max_error(mlp_max, by_hand)}))


CBAM = CBAMChannelAttention()

register_gate(ChannelAttn, GateType(CBAM, "cbam", source=lambda m: m.gate, channels=lambda m: m.fc2.out_channels))
