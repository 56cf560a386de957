"""Attention gates: one file per kind (se, eca, sk, splat, cbam), a registry, discovery and naming.

The registry's list of kinds is the import line below: importing a kind's file registers it.
This package is the semantics only and does not import ``attnviz.i18n``; what a person reads about
each kind is its view, ``attnviz.views.kinds``.
"""
from . import se, eca, sk, splat, cbam  # noqa: F401  (the kinds, in the order pages show them)
from .base import (CHANNELWISE, EXCITATION, SELECTION, SPLITS, AttentionKind, Gate, KindName, PathSummary,
                   StepKey, ValueSummary, Walkthrough, WalkthroughNotCovered)
from .discovery import discover_gates
from .kind import ChannelWalkthrough, SelectionWalkthrough
from .registry import GateType, gate_type_of, kind_named, kinds, register_gate, register_kind

__all__ = ["CHANNELWISE", "EXCITATION", "SELECTION", "SPLITS", "AttentionKind", "ChannelWalkthrough", "Gate",
           "GateType", "KindName", "PathSummary", "SelectionWalkthrough", "StepKey", "ValueSummary", "Walkthrough", "WalkthroughNotCovered",
           "discover_gates", "gate_type_of", "kind_named", "kinds", "register_gate", "register_kind"]
