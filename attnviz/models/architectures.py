"""Architectures of the bundled models, built from timm's own ResNet and block classes.

They are ResNet-18 layouts at half width so that each fp16 weights file stays under 8 MB, with
exactly the attention modules of timm's ImageNet models (``SEModule`` in ``BasicBlock``,
``SelectiveKernel`` with a 3x3 and a dilated-3x3 path, ``SplitAttn``), so the capture code sees in
them what it sees in ``seresnet50`` or ``skresnet18``.
"""
from __future__ import annotations

from collections.abc import Callable

import torch.nn as nn
from timm.models.resnest import ResNestBottleneck
from timm.models.resnet import BasicBlock, Bottleneck, ResNet
from timm.models.sknet import SelectiveKernelBasic, SelectiveKernelBottleneck

# timm's ResNet annotates ``block`` as an instance (BasicBlock | Bottleneck) but takes the class:
# the ``type: ignore[arg-type]  # BLOCK_TYPE`` on the calls below are that annotation's gap.

# Half the width of ResNet-18: conv2_x .. conv5_x.
WIDTHS = (32, 64, 128, 256)


def se_resnet18_half(num_classes: int = 10) -> ResNet:
    """SE-ResNet-18 at half width; timm's SEModule after the second conv of each block.

    timm's default rd_ratio 1/16 is rounded up to a multiple of 8 hidden units, so the reduction
    is the paper's r = 16 in stages 4-5 (128, 256 channels), r = 8 in stage 3 and r = 4 in stage 2.
    """
    return ResNet(
        block=BasicBlock, layers=(2, 2, 2, 2), channels=WIDTHS, stem_width=32,  # type: ignore[arg-type]  # BLOCK_TYPE
        num_classes=num_classes, block_args=dict(attn_layer="se"),
    )


def sk_resnet18_half(num_classes: int = 10) -> ResNet:
    """SK-ResNet-18 at half width: timm's SelectiveKernel (3x3 path + dilated 3x3 "5x5" path).

    rd_divisor=32 makes the fuse width d = max(C/16, 32) for every unit here (C <= 256), which is
    the paper's d = max(C/r, L) with r = 16 and L = 32.
    """
    sk_kwargs = dict(rd_ratio=1 / 16, rd_divisor=32, split_input=True)
    return ResNet(
        block=SelectiveKernelBasic,  # type: ignore[arg-type]  # BLOCK_TYPE
        layers=(2, 2, 2, 2), channels=WIDTHS, stem_width=32,
        num_classes=num_classes, block_args=dict(sk_kwargs=sk_kwargs), zero_init_last=False,
    )


def cbam_resnet18_half(num_classes: int = 10) -> ResNet:
    """ResNet-18 at half width with timm's CbamModule (channel then spatial attention) after the
    second conv of each BasicBlock; attnviz's gate is its channel half (``ChannelAttn``)."""
    return ResNet(
        block=BasicBlock, layers=(2, 2, 2, 2), channels=WIDTHS, stem_width=32,  # type: ignore[arg-type]  # BLOCK_TYPE
        num_classes=num_classes, block_args=dict(attn_layer="cbam"),
    )


def resnest_half(num_classes: int = 10) -> ResNet:
    """A small ResNeSt (radix 2, one bottleneck per stage) in the layout of timm's resnest14d."""
    return ResNet(
        block=ResNestBottleneck,  # type: ignore[arg-type]  # BLOCK_TYPE
        layers=(1, 1, 1, 1), channels=WIDTHS, stem_type="deep",
        stem_width=16, avg_down=True, base_width=64, cardinality=1, num_classes=num_classes,
        block_args=dict(radix=2, avd=True, avd_first=False),
    )


# Five eighths of ResNet's width: the widest whose SK-ResNet-26 still fits the 16 MiB that one fp16
# file may take on its way back from a GPU machine (bench/gpu/train.py). At full width the files
# would be 21.5 (SE-18), 30.7 (SK-18), 29.3 (SE-26) and 39.0 MiB (SK-26); at 5/8 they are 8.4,
# 12.1, 11.5 and 15.3 MiB.
WIDTHS_5OF8 = (40, 80, 160, 320)
# The SKNet paper's SK unit: both paths see every input channel (timm's default, split_input=True,
# gives each path half of them), d = max(C/16, 32).
SK_PAPER = dict(rd_ratio=1 / 16, rd_divisor=32, split_input=False)


def se_resnet18_5of8(num_classes: int = 10) -> ResNet:
    """SE-ResNet-18 at 5/8 width (40-320 channels): timm's SEModule after the second conv of each
    BasicBlock, reduction 1/16 rounded up to a multiple of 8 hidden units."""
    return ResNet(block=BasicBlock, layers=(2, 2, 2, 2), channels=WIDTHS_5OF8,  # type: ignore[arg-type]  # BLOCK_TYPE
                  num_classes=num_classes, block_args=dict(attn_layer="se"))


def sk_resnet18_5of8(num_classes: int = 10) -> ResNet:
    """SK-ResNet-18 at 5/8 width: timm's SelectiveKernel in place of each BasicBlock's first conv
    (3x3 path + dilated 3x3 "5x5" path, both over all input channels as in the paper)."""
    return ResNet(
        block=SelectiveKernelBasic,  # type: ignore[arg-type]  # BLOCK_TYPE
        layers=(2, 2, 2, 2), channels=WIDTHS_5OF8,
        num_classes=num_classes, block_args=dict(sk_kwargs=SK_PAPER), zero_init_last=False,
    )


def se_resnet26_5of8(num_classes: int = 10) -> ResNet:
    """SE-ResNet-26 at 5/8 width: timm's resnet26 layout (two Bottlenecks per stage, outputs 4x the
    width, 160-1280 channels) with an SEModule on each bottleneck's output."""
    return ResNet(block=Bottleneck, layers=(2, 2, 2, 2), channels=WIDTHS_5OF8,  # type: ignore[arg-type]  # BLOCK_TYPE
                  num_classes=num_classes, block_args=dict(attn_layer="se"))


def sk_resnet26_5of8(num_classes: int = 10) -> ResNet:
    """SK-ResNet-26 at 5/8 width: timm's SelectiveKernelBottleneck (the SK unit as each bottleneck's
    middle conv, both paths over all its input channels), two per stage."""
    return ResNet(
        block=SelectiveKernelBottleneck,  # type: ignore[arg-type]  # BLOCK_TYPE
        layers=(2, 2, 2, 2), channels=WIDTHS_5OF8,
        num_classes=num_classes, block_args=dict(sk_kwargs=SK_PAPER), zero_init_last=False,
    )


ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "se_resnet18_half": se_resnet18_half,
    "sk_resnet18_half": sk_resnet18_half,
    "resnest_half": resnest_half,
    "cbam_resnet18_half": cbam_resnet18_half,
    "se_resnet18_5of8": se_resnet18_5of8,
    "sk_resnet18_5of8": sk_resnet18_5of8,
    "se_resnet26_5of8": se_resnet26_5of8,
    "sk_resnet26_5of8": sk_resnet26_5of8,
}


def build_architecture(arch: str, num_classes: int) -> nn.Module:
    """Build one of the bundled architectures by name, with fresh weights."""
    try:
        builder = ARCHITECTURES[arch]
    except KeyError:
        raise ValueError(f"unknown bundled architecture {arch!r}; known: {', '.join(ARCHITECTURES)}") from None
    return builder(num_classes=num_classes)
