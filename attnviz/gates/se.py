"""Squeeze-and-Excitation (Hu et al., 2018): s = sigmoid(W2 ReLU(W1 z)), x~_c = s_c u_c.

Registered: timm's ``SEModule`` (ResNet/RegNet family), ``EffectiveSEModule``,
``SqueezeExciteCl``, the EfficientNet/MobileNet ``SqueezeExcite`` (sigmoid or hard-sigmoid gate)
and the original SENet ``SEModule`` of timm's legacy models. Its lesson, panels and labels are
``attnviz/views/kinds/se.py``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn as nn
from timm.layers.squeeze_excite import EffectiveSEModule, SEModule, SqueezeExciteCl
from timm.models.efficientnet import SqueezeExcite as EffNetSqueezeExcite
from timm.models.senet import SEModule as LegacySEModule

from .base import StepKey, WalkthroughNotCovered, as_numpy, max_error
from .kind import ChannelGateKind, ChannelWalkthrough
from .registry import GateType, register_gate

if TYPE_CHECKING:  # the type only: attnviz.gates is below the analyses
    from ..analysis.inference import TopClass

#: Per variant: the submodule fed with z, the one that outputs the hidden layer, the gate.
_STEPS = {
    "se": ("fc1", "act", "gate"),                         # timm SEModule (ResNet, RegNet ...)
    "legacy-se": ("fc1", "relu", "sigmoid"),              # the SENet paper's models in timm
    "effnet-se": ("conv_reduce", "act1", "gate"),         # EfficientNet / MobileNet SqueezeExcite
}


@dataclass(frozen=True, eq=False, kw_only=True)
class SEWalkthrough(ChannelWalkthrough):
    """SE's steps: hidden (C/r,) after W1 and ReLU; reduction r = C / hidden units."""

    hidden: np.ndarray
    reduction: float


class SqueezeExcitation(ChannelGateKind):
    name = "se"
    title = "Squeeze-and-Excitation"
    prefix = "SE"
    paper = "Hu et al., 2018"

    def walkthrough_steps(self, gate, module: nn.Module) -> list[StepKey]:
        if gate.variant not in _STEPS:
            raise WalkthroughNotCovered(gate)
        if getattr(module, "add_maxpool", False):
            raise WalkthroughNotCovered(gate, "add_maxpool")
        m = gate.module
        squeeze, hidden, gate_fn = _STEPS[gate.variant]
        return [(m, "in"), (f"{m}.{squeeze}", "in"), (f"{m}.{hidden}", "out"), (f"{m}.{gate_fn}", "out"),
                (m, "out")]

    def walkthrough(self, gate, module: nn.Module, prediction: TopClass, rec: dict[StepKey, torch.Tensor]) -> SEWalkthrough:
        m = gate.module
        squeeze, hidden_step, gate_step = _STEPS[gate.variant]
        u = rec[(m, "in")]                                       # (C, H, W)
        z = rec[(f"{m}.{squeeze}", "in")].flatten()              # what W1 was fed
        hidden = rec[(f"{m}.{hidden_step}", "out")].flatten()
        s = rec[(f"{m}.{gate_step}", "out")].flatten()
        return SEWalkthrough(
            kind=self, hidden=as_numpy(hidden), reduction=u.shape[0] / hidden.numel(),
            gate_fn=type(module.get_submodule(gate_step)).__name__,
            **self.scaled(gate, prediction, u, z, s, rec[(m, "out")], {"z = GAP(u)": max_error(z, u.mean((1, 2)))}))


SE = SqueezeExcitation()

register_gate(SEModule, GateType(
    SE, "se", source=lambda m: m.gate, channels=lambda m: m.fc2.out_channels))
register_gate(EffectiveSEModule, GateType(
    SE, "effective-se", source=lambda m: m.gate, channels=lambda m: m.fc.out_channels))
register_gate(SqueezeExciteCl, GateType(
    SE, "se-channels-last", source=lambda m: m.gate, channels=lambda m: m.fc2.out_features))
register_gate(EffNetSqueezeExcite, GateType(
    SE, "effnet-se", source=lambda m: m.gate, channels=lambda m: m.conv_expand.out_channels))
register_gate(LegacySEModule, GateType(
    SE, "legacy-se", source=lambda m: m.sigmoid, channels=lambda m: m.fc2.out_channels))
