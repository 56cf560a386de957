"""ResNeSt split attention: a softmax across the radix splits (a sigmoid when radix = 1).

The gate lives in ``SplitAttn.rsoftmax`` (timm's ``RadixSoftmax``), whose output (B, radix * C)
is laid out radix-major after its transpose, so it reshapes to (B, radix, C) in the channel order
of the block's output. Radix 1 is an SE-like sigmoid gate, radix 2 an SK-like selection.
"""
from __future__ import annotations

from timm.layers.split_attn import SplitAttn

from .registry import GateType, register_gate

register_gate(SplitAttn, GateType(
    "splat", "radix", source=lambda m: m.rsoftmax,
    channels=lambda m: m.fc2.out_channels // m.radix,
    paths=lambda m: m.radix))
