"""The zoo as the app and the CLI list it: the bundled models, then the timm ImageNet models with
channel attention that attnviz offers (``TIMM_ZOO``, plain data), each with where its weights
come from; close matches for a mistyped name."""
from __future__ import annotations

import difflib
from functools import lru_cache

import timm
import torch

from ..architectures import build_architecture
from ...gates import discover_gates
from ...i18n import N_
from .bundled import bundled_models
from .hub import pretrained_status

#: timm ImageNet models with channel attention that the app offers, with a one-line description
#: (English, marked for the catalogue: the app reads it through ``_()``, e.g. ``ModelChoice.description``).
TIMM_ZOO: dict[str, str] = {
    "legacy_seresnet50": N_("SE-ResNet-50 as in the SENet paper (original Caffe weights)"),
    "seresnet50": N_("SE-ResNet-50, timm's modern training recipe"),
    "seresnext50_32x4d": N_("SE-ResNeXt-50 (32x4d)"),
    "legacy_senet154": N_("SENet-154, the ILSVRC 2017 winner"),
    "skresnet18": N_("SK-ResNet-18 (Selective Kernel, split input)"),
    "skresnet34": N_("SK-ResNet-34 (Selective Kernel, split input)"),
    "skresnext50_32x4d": N_("SK-ResNeXt-50 (32x4d), the SKNet-50 equivalent"),
    "resnest50d": N_("ResNeSt-50d, split attention with radix 2"),
    "efficientnet_b0": N_("EfficientNet-B0, SE in every MBConv block"),
    "mobilenetv3_large_100": N_("MobileNetV3-Large, hard-sigmoid SE"),
    "regnety_016": N_("RegNetY-1.6GF, SE in every block"),
    "ecaresnet50d": N_("ECA-ResNet-50d, efficient channel attention (1-d conv gate)"),
}


@lru_cache(maxsize=1)
def timm_names() -> frozenset[str]:
    """Every architecture timm can build (not only the zoo's)."""
    return frozenset(timm.list_models())


def weights_status(name: str) -> str:
    """'bundled', 'cached' (timm weights already downloaded), 'download' (needs the network)
    or 'unknown' (not a model name attnviz knows)."""
    if name in bundled_models():
        return "bundled"
    if name not in timm_names():
        return "unknown"
    return pretrained_status(name)


def list_models() -> list[dict]:
    """The zoo: bundled models first, then the timm models, each with its weights status.
    Descriptions are in English (the CLI's table); the app translates them where it shows them."""
    rows = []
    for name, model in bundled_models().items():
        rows.append({"name": name, "source": "bundled", "description": model.description,
                     "weights": "bundled", "classes": model.num_classes, "top1": model.top1})
    for name, description in TIMM_ZOO.items():
        rows.append({"name": name, "source": "timm", "description": description,
                     "weights": weights_status(name), "classes": 1000, "top1": None})
    return rows


def suggest(name: str) -> list[str]:
    """Close matches among the zoo, the bundled models and all timm architectures."""
    candidates = list(bundled_models()) + list(TIMM_ZOO)
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
    close += [n for n in difflib.get_close_matches(name, sorted(timm_names()), n=3, cutoff=0.75)
              if n not in close]
    return close[:4]


def describe_zoo(probe: bool = True) -> list[dict]:
    """``list_models`` plus, per model, its attention kinds, gate count and parameter count.

    timm architectures are built on the ``meta`` device: shapes only, no memory, no weights.
    """
    rows = list_models()
    if not probe:
        return rows
    bundled = bundled_models()
    for row in rows:
        with torch.device("meta"):
            if row["name"] in bundled:
                model = build_architecture(bundled[row["name"]].arch, bundled[row["name"]].num_classes)
            else:
                model = timm.create_model(row["name"], pretrained=False)
        gates = discover_gates(model)
        row["kinds"] = list(dict.fromkeys(g.kind.name for g in gates))
        row["gates"] = len(gates)
        row["params"] = sum(p.numel() for p in model.parameters())
    return rows
