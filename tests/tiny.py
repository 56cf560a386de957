"""Small random-weight models for fast tests: the bundled architectures at a small input size."""
from __future__ import annotations

import torch
from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

from attnviz.models.architectures import build_architecture
from attnviz.models.zoo import LoadedModel, wrap_model

CLASS_NAMES = [f"class {i}" for i in range(10)]


def tiny(arch: str, size: int = 96, seed: int = 0) -> LoadedModel:
    """``arch`` ('se_resnet18_half', 'sk_resnet18_half', 'resnest_half') with seeded random
    weights, 10 classes, preprocessed to ``size`` px."""
    torch.manual_seed(seed)
    model = build_architecture(arch, 10)
    # timm zero-initialises the last BN of each residual branch, so a fresh block is the identity
    # and its gate changes nothing; random BN scales make every gate matter, as in a trained net.
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            torch.nn.init.uniform_(module.weight, 0.5, 1.5)
            torch.nn.init.uniform_(module.bias, -0.2, 0.2)
    config = {"input_size": (3, size, size), "interpolation": "bicubic", "mean": IMAGENET_DEFAULT_MEAN,
              "std": IMAGENET_DEFAULT_STD, "crop_pct": 1.0, "crop_mode": "center"}
    return wrap_model(model, f"tiny-{arch}", CLASS_NAMES, data_config=config)
