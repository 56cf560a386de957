"""Selective Kernel attention: a softmax across kernel paths, per channel.

timm's ``SelectiveKernelAttn`` returns (B, paths, C, 1, 1); path 0 is the 3x3 path (a_c) and
path 1 the "5x5" path, which timm builds as a 3x3 with dilation 2 (b_c); a_c + b_c = 1.
"""
from __future__ import annotations

from timm.layers.selective_kernel import SelectiveKernelAttn

from .registry import GateType, register_gate

register_gate(SelectiveKernelAttn, GateType(
    "sk", "sk", source=lambda m: m,
    channels=lambda m: m.fc_select.out_channels // m.num_paths,
    paths=lambda m: m.num_paths))
