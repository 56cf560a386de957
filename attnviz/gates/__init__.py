"""Attention gates: one file per kind (se, eca, sk, splat), a registry, discovery and naming.

The registry's list of kinds is the import line below: importing a kind's file registers it.
"""
from . import se, eca, sk, splat  # noqa: F401  (the kinds, in the order pages show them)
from .discovery import discover_gates
from .kind import AttentionKind, KindName, Walkthrough
from .registry import Gate, GateType, gate_type_of, kind_named, kinds, register_gate, register_kind

__all__ = ["AttentionKind", "Gate", "GateType", "KindName", "Walkthrough", "discover_gates", "gate_type_of",
           "kind_named", "kinds", "register_gate", "register_kind"]
