"""Registry tying attention module types to their kind and to how their gate values are read.

Like timm's ``layers/`` create functions, each attention kind lives in its own file (``se.py``,
``eca.py``, ``sk.py``, ``splat.py``, ``cbam.py``): it registers its ``AttentionKind`` and the module
classes it understands here. Discovery then walks any torch model and returns a ``Gate`` for every module
whose type is registered.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

import torch.nn as nn

from .base import AttentionKind, Gate

__all__ = ["Gate", "GateType", "gate_type_of", "kind_named", "kinds", "register_gate", "register_kind"]

_KINDS: dict[str, AttentionKind] = {}
_REGISTRY: dict[type, GateType] = {}


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
    source: Callable[[Any], nn.Module]          # each takes the registered module (typed by its own class)
    channels: Callable[[Any], int | None]
    paths: Callable[[Any], int] = lambda _m: 1


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
