"""Registry tying attention module types to their kind and to how their gate values are read.

Like timm's ``layers/`` create functions, each attention kind lives in its own file (``se.py``,
``eca.py``, ``sk.py``, ``splat.py``): it registers its ``AttentionKind`` and the module classes it
understands here. Discovery then walks any torch model and returns a ``Gate`` for every module
whose type is registered.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch.nn as nn

from .kind import AttentionKind

_KINDS: dict[str, AttentionKind] = {}
_REGISTRY: dict[type, "GateType"] = {}


def register_kind(kind: AttentionKind) -> AttentionKind:
    """Make a kind known (its file calls this once); returns it."""
    _KINDS[kind.name] = kind
    return kind


def kinds() -> list[AttentionKind]:
    """Every registered kind, in registration order."""
    return list(_KINDS.values())


def kind_named(name: str) -> AttentionKind:
    """The kind of this name (as stored in JSON and profiles)."""
    try:
        return _KINDS[name]
    except KeyError:
        raise KeyError(f"no attention kind {name!r}; kinds are {', '.join(_KINDS)}") from None


@dataclass(frozen=True)
class GateType:
    """How to read one attention module type.

    kind: the AttentionKind the module computes.
    variant: the concrete form, e.g. 'se', 'legacy-se', 'effnet-se', 'eca', 'sk', 'radix'.
    source: the submodule whose output *is* the gate value (the sigmoid, the softmax ...).
    channels, paths: counts read from the module's own layers; channels may be None when the
        module has no channel-sized layer (ECA), and discovery then measures it.
    """

    kind: AttentionKind
    variant: str
    source: Callable[[nn.Module], nn.Module]
    channels: Callable[[nn.Module], int | None]
    paths: Callable[[nn.Module], int] = lambda m: 1


def register_gate(module_type: type, gate_type: GateType) -> None:
    """Teach discovery a new attention module type (also usable by plug-ins and tests)."""
    if not isinstance(gate_type.kind, AttentionKind):
        raise TypeError(f"a gate type's kind must be an AttentionKind, not {gate_type.kind!r}")
    register_kind(gate_type.kind)
    _REGISTRY[module_type] = gate_type


def gate_type_of(module: nn.Module) -> GateType | None:
    """The registered GateType for ``module``'s class or its nearest registered base class."""
    for cls in type(module).__mro__:
        if cls in _REGISTRY:
            return _REGISTRY[cls]
    return None


@dataclass(frozen=True)
class Gate:
    """One attention gate of a model, in depth order.

    name: the papers' convention, e.g. 'SE_2_1' (ResNet conv2_x is stage 2, blocks from 1).
    module: path of the attention module in the model ('layer1.0.se').
    source: path of the submodule whose output is captured ('layer1.0.se.gate').
    kind: what the gate computes (``AttentionKind``); ask it anything kind-specific.
    values per image: (paths, channels); channel gates have paths = 1.
    """

    name: str
    module: str
    source: str
    kind: AttentionKind
    variant: str
    channels: int
    paths: int
    stage: int | None = None
    block: int | None = None
    index: int = 0

    @property
    def value_label(self) -> str:
        return self.kind.value_label(self.paths)

    @property
    def neutral_value(self) -> float:
        return self.kind.neutral_value(self.paths)

    @property
    def gated_layer(self) -> str:
        return self.kind.gated_layer(self.module)

    def info(self) -> dict:
        """JSON-friendly description."""
        return {"name": self.name, "module": self.module, "source": self.source, "kind": self.kind.name,
                "variant": self.variant, "channels": self.channels, "paths": self.paths,
                "stage": self.stage, "block": self.block, "index": self.index}
