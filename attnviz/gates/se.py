"""Squeeze-and-Excitation style channel gates: s = gate(W2 d(W1 z)), x~_c = s_c u_c.

Registered: timm's ``SEModule`` (ResNet/RegNet family), ``EffectiveSEModule``,
``SqueezeExciteCl``, the EfficientNet/MobileNet ``SqueezeExcite`` (sigmoid or hard-sigmoid gate),
the original SENet ``SEModule`` of timm's legacy models, and ECA / circular ECA (a 1-d conv across
channels instead of the two fc layers, same sigmoid gate).
"""
from __future__ import annotations

from timm.layers.eca import CecaModule, EcaModule
from timm.layers.squeeze_excite import EffectiveSEModule, SEModule, SqueezeExciteCl
from timm.models._efficientnet_blocks import SqueezeExcite as EffNetSqueezeExcite
from timm.models.senet import SEModule as LegacySEModule

from .registry import GateType, register_gate

register_gate(SEModule, GateType(
    "se", "se", source=lambda m: m.gate, channels=lambda m: m.fc2.out_channels))
register_gate(EffectiveSEModule, GateType(
    "se", "effective-se", source=lambda m: m.gate, channels=lambda m: m.fc.out_channels))
register_gate(SqueezeExciteCl, GateType(
    "se", "se-channels-last", source=lambda m: m.gate, channels=lambda m: m.fc2.out_features))
register_gate(EffNetSqueezeExcite, GateType(
    "se", "effnet-se", source=lambda m: m.gate, channels=lambda m: m.conv_expand.out_channels))
register_gate(LegacySEModule, GateType(
    "se", "legacy-se", source=lambda m: m.sigmoid, channels=lambda m: m.fc2.out_channels))


def _eca_channels(module) -> int | None:
    # ECA has no channel-sized layer and timm does not keep the count it was built for, so
    # discovery measures it with one small forward pass (None = "ask the probe").
    return None


register_gate(EcaModule, GateType("se", "eca", source=lambda m: m.gate, channels=_eca_channels))
register_gate(CecaModule, GateType("se", "ceca", source=lambda m: m.gate, channels=_eca_channels))
