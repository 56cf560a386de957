"""Registry tying attention module types to how their gate values are read.

Like timm's ``layers/`` create functions, each attention kind lives in its own file (``se.py``,
``sk.py``, ``splat.py``) and registers the module classes it understands here. Discovery then
walks any torch model and returns a ``Gate`` for every module whose type is registered.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch.nn as nn

KINDS = ("se", "sk", "splat")


@dataclass(frozen=True)
class GateType:
    """How to read one attention module type.

    kind: 'se' (sigmoid-like channel gate), 'sk' (softmax over kernel paths) or 'splat'
        (ResNeSt radix softmax across splits).
    variant: the concrete form, e.g. 'se', 'legacy-se', 'effnet-se', 'eca', 'sk', 'radix'.
    source: the submodule whose output *is* the gate value (the sigmoid, the softmax ...).
    channels, paths: counts read from the module's own layers; channels may be None when the
        module has no channel-sized layer (ECA), and discovery then measures it.
    """

    kind: str
    variant: str
    source: Callable[[nn.Module], nn.Module]
    channels: Callable[[nn.Module], int | None]
    paths: Callable[[nn.Module], int] = lambda m: 1


_REGISTRY: dict[type, GateType] = {}


def register_gate(module_type: type, gate_type: GateType) -> None:
    """Teach discovery a new attention module type (also usable by plug-ins and tests)."""
    if gate_type.kind not in KINDS:
        raise ValueError(f"gate kind must be one of {KINDS}, not {gate_type.kind!r}")
    _REGISTRY[module_type] = gate_type


def gate_type_of(module: nn.Module) -> GateType | None:
    """The registered GateType for ``module``'s class or its nearest registered base class."""
    for cls in type(module).__mro__:
        if cls in _REGISTRY:
            return _REGISTRY[cls]
    return None


def registered_types() -> dict[type, GateType]:
    return dict(_REGISTRY)


@dataclass(frozen=True)
class Gate:
    """One attention gate of a model, in depth order.

    name: the papers' convention, e.g. 'SE_2_1' (ResNet conv2_x is stage 2, blocks from 1).
    module: path of the attention module in the model ('layer1.0.se').
    source: path of the submodule whose output is captured ('layer1.0.se.gate').
    values per image: (paths, channels); SE gates have paths = 1.
    """

    name: str
    module: str
    source: str
    kind: str
    variant: str
    channels: int
    paths: int
    stage: int | None = None
    block: int | None = None
    index: int = 0
    _module_ref: nn.Module | None = field(default=None, repr=False, compare=False)

    def info(self) -> dict:
        """JSON-friendly description."""
        return {"name": self.name, "module": self.module, "source": self.source, "kind": self.kind,
                "variant": self.variant, "channels": self.channels, "paths": self.paths,
                "stage": self.stage, "block": self.block, "index": self.index}
