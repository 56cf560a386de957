"""Attention gates: one file per kind (se, sk, splat), a registry, discovery and naming."""
from . import se, sk, splat  # noqa: F401  (importing registers the module types)
from .discovery import discover_gates
from .registry import KINDS, Gate, GateType, gate_type_of, register_gate

__all__ = ["KINDS", "Gate", "GateType", "discover_gates", "gate_type_of", "register_gate"]
