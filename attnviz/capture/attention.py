"""Capturing gate values during a forward pass.

``AttentionCapture`` owns its forward hooks (``attnviz.capture.hooks.ScopedHooks``): registered on
``__enter__``, always removed on ``__exit__``, and recording only the forward passes of the thread
that opened the capture, so captures on one shared model in several threads stay isolated.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
import torch.nn as nn

from ..errors import GateNotFound
from ..gates import Gate, discover_gates
from ..i18n import _
from .hooks import ScopedHooks


def neutral_value(gate: Gate) -> float:
    """The gate value that leaves its block's features unweighted (the kind's): s = 1 for a
    sigmoid gate, 1/paths for a softmax across paths (0.5/0.5 for SK)."""
    return gate.neutral_value


class CaptureResult:
    """Gate values of one or more forward passes: name -> float32 tensor (B, paths, C).

    Tensors stay on the device they were computed on until ``cpu()`` is called.
    """

    def __init__(self, gates: Sequence[Gate], values: dict[str, torch.Tensor]) -> None:
        self.gates = list(gates)
        self.values = values

    def __getitem__(self, name: str) -> torch.Tensor:
        return self.values[name]

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def __len__(self) -> int:
        return len(self.values)

    @property
    def batch_size(self) -> int:
        return next(iter(self.values.values())).shape[0] if self.values else 0

    def cpu(self) -> CaptureResult:
        return CaptureResult(self.gates, {k: v.cpu() for k, v in self.values.items()})

    def for_image(self, index: int) -> dict[str, torch.Tensor]:
        """Per-image values in the papers' shapes: SE (C,), SK (paths, C), ResNeSt (radix, C)."""
        out = {}
        for gate in self.gates:
            if gate.name not in self.values:
                continue
            out[gate.name] = gate.kind.per_image(self.values[gate.name][index])
        return out


class AttentionCapture(ScopedHooks):
    """Context manager that records every gate's values during forward passes of ``model``.

    >>> with AttentionCapture(model) as cap:
    ...     logits = model(batch)
    >>> result = cap.result()          # name -> (B, paths, C) float32, on the model's device

    ``neutralise`` names gates to knock out: their output is replaced by the neutral value
    (s = 1, or 1/paths for a softmax), while the captured value is still the original one.
    ``gates`` restricts capture to a subset (default: every discovered gate).
    """

    def __init__(self, model: nn.Module, gates: Sequence[Gate] | None = None,
                 neutralise: Iterable[str] = ()) -> None:
        super().__init__(model)
        self.gates = list(gates) if gates is not None else discover_gates(model)
        self.neutralise = set(neutralise)
        unknown = self.neutralise - {g.name for g in self.gates}
        if unknown:
            raise GateNotFound(sorted(unknown)[0], _("this model"), [g.name for g in self.gates])
        self._chunks: dict[str, list[torch.Tensor]] = {}

    def _hook(self, gate: Gate):
        def hook(_module: nn.Module, _inputs, output: torch.Tensor):
            if not self.is_active:
                return None  # another thread's (or no) capture is running this forward
            values = output.detach().reshape(output.shape[0], gate.paths, -1)
            self._chunks.setdefault(gate.name, []).append(values)
            if gate.name in self.neutralise:
                return torch.full_like(output, neutral_value(gate))
            return None
        return hook

    def _register_hooks(self) -> None:
        modules = dict(self.model.named_modules())
        for gate in self.gates:
            self._add_hook(modules[gate.source], self._hook(gate))

    def clear(self) -> None:
        """Forget what was recorded so far (e.g. between batches)."""
        self._chunks.clear()

    def result(self) -> CaptureResult:
        """Recorded values, float32, concatenated over the forward passes made so far."""
        values = {name: (chunks[0] if len(chunks) == 1 else torch.cat(chunks)).float()
                  for name, chunks in self._chunks.items()}
        return CaptureResult(self.gates, values)


def has_hooks(model: nn.Module) -> bool:
    """True if any module of ``model`` still carries a forward hook (used to check clean-up)."""
    return any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())
