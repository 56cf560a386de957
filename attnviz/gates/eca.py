"""Efficient Channel Attention (Wang et al., 2020): s = sigmoid(conv1d_k(z)), x~_c = s_c u_c.

ECA keeps SE's squeeze and scale but replaces the two fully connected layers by one 1-d
convolution of kernel size k across neighbouring channels (no reduction, k weights in all).
Registered: timm's ``EcaModule`` and ``CecaModule`` (circular padding across the channels). Its
lesson, panels and labels are ``attnviz/views/kinds/eca.py``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np
import torch
import torch.nn as nn
from timm.layers.eca import CecaModule, EcaModule

from .base import StepKey, ValueSummary, WalkthroughNotCovered, as_numpy, max_error
from .kind import ChannelGateKind, ChannelWalkthrough
from .registry import GateType, register_gate

if TYPE_CHECKING:  # the type only: attnviz.gates is below the analyses
    from ..analysis.inference import TopClass


@dataclass(frozen=True, eq=False, kw_only=True)
class ECAWalkthrough(ChannelWalkthrough):
    """ECA's steps: kernel_size k of the 1-d convolution across channels; conv (C,) its output."""

    kernel_size: int
    conv: np.ndarray


@dataclass(frozen=True)
class ECASummary(ValueSummary):
    """An ECA gate's summary adds the Pearson correlation of the excitations of neighbouring
    channels (s_c with s_c+1): ECA computes each weight from a k-wide window of channels, so
    neighbours share inputs (NaN for fewer than three channels or constant values)."""

    neighbour_correlation: float

    def to_dict(self) -> dict[str, float | list[float]]:
        return {**super().to_dict(), "neighbour_correlation": self.neighbour_correlation}


class EfficientChannelAttention(ChannelGateKind):
    name = "eca"
    title = "Efficient Channel Attention"
    prefix = "ECA"
    paper = "Wang et al., 2020"

    def summary(self, values: np.ndarray) -> ECASummary:
        s = np.asarray(values, dtype=np.float64).reshape(-1)
        # how far neighbouring channels agree: ECA's weights come from a k-wide window of z
        smooth = float(np.corrcoef(s[:-1], s[1:])[0, 1]) if s.size > 2 and s.std() > 0 else float("nan")
        spread = super().summary(values)
        return ECASummary(spread.mean, spread.std, spread.min, spread.max, neighbour_correlation=smooth)

    def walkthrough_steps(self, gate, module: nn.Module) -> list[StepKey]:
        if getattr(module, "conv2", None) is not None:
            raise WalkthroughNotCovered(gate, "use_mlp")
        m = gate.module
        return [(m, "in"), (f"{m}.conv", "out"), (f"{m}.gate", "out"), (m, "out")]

    def walkthrough(self, gate, module: nn.Module, prediction: TopClass, rec: dict[StepKey, torch.Tensor]) -> ECAWalkthrough:
        m = gate.module
        u = rec[(m, "in")]                                       # (C, H, W)
        z = u.mean((1, 2))
        conv = rec[(f"{m}.conv", "out")].flatten()
        s = rec[(f"{m}.gate", "out")].flatten()
        weight = cast(EcaModule, module).conv.weight.detach().float().flatten().cpu()  # CecaModule's too
        k = weight.numel()
        pad = (k - 1) // 2
        padded = torch.cat([z[-pad:], z, z[:pad]]) if isinstance(module, CecaModule) else \
            torch.nn.functional.pad(z, (pad, pad))
        by_hand = torch.stack([(padded[c:c + k] * weight.to(z.device)).sum() for c in range(z.numel())])
        return ECAWalkthrough(
            kind=self, conv=as_numpy(conv), kernel_size=k, gate_fn=type(module.gate).__name__,
            **self.scaled(gate, prediction, u, z, s, rec[(m, "out")], {"conv = conv1d_k(z)": max_error(conv, by_hand)}))


ECA = EfficientChannelAttention()


def _eca_channels(module) -> int | None:  # noqa: ARG001  registry's channels(module) interface
    # ECA has no channel-sized layer and timm does not keep the count it was built for, so
    # discovery measures it with one small forward pass (None = "ask the probe").
    return None


register_gate(EcaModule, GateType(ECA, "eca", source=lambda m: m.gate, channels=_eca_channels))
register_gate(CecaModule, GateType(ECA, "ceca", source=lambda m: m.gate, channels=_eca_channels))
