"""Which images excite a channel most (and least): the K highest and K lowest gate values of every
gate, path and channel, with the images they came from, kept while a dataset streams past.

Memory is 4 x P x C x K per gate whatever the dataset's size: each batch is folded in by one
``topk`` over the K kept plus the batch. Merging two (processes under torchrun, or a resumed run)
is the same fold, so the result is exact: the K best of a union are the K best of the parts' K
best. Values are taken at the first scale of a profile (the image as it is, zoom 1.0).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from ...gates import Gate
from ..file_format import TOP_KINDS, top_index_name, top_value_name

_KINDS = TOP_KINDS


class TopImages:
    """Per gate: ``value[kind]`` (P, C, K) float32 and ``index[kind]`` (P, C, K) int64 sample ids,
    sorted best first (kind 'top': highest values; 'bottom': lowest); id -1 marks an empty slot."""

    def __init__(self, gates: Sequence[Gate], k: int, device: str | torch.device = "cpu") -> None:
        if k < 1:
            raise ValueError(f"the number of top images must be at least 1, got {k}")
        self.gates = list(gates)
        self.k = int(k)
        self.device = torch.device(device)
        self.value: dict[str, dict[str, torch.Tensor]] = {kind: {} for kind in _KINDS}
        self.index: dict[str, dict[str, torch.Tensor]] = {kind: {} for kind in _KINDS}
        for g in self.gates:
            for kind, empty in (("top", float("-inf")), ("bottom", float("inf"))):
                self.value[kind][g.name] = torch.full((g.paths, g.channels, self.k), empty, device=self.device)
                self.index[kind][g.name] = torch.full((g.paths, g.channels, self.k), -1, dtype=torch.int64,
                                                      device=self.device)

    def _fold(self, kind: str, name: str, values: torch.Tensor, index: torch.Tensor) -> None:
        """Keep the K best of what is kept and ``values`` (P, C, N) with ``index`` (P, C, N)."""
        both_v = torch.cat([self.value[kind][name], values], dim=-1)
        both_i = torch.cat([self.index[kind][name], index], dim=-1)
        best_v, where = torch.topk(both_v, self.k, dim=-1, largest=kind == "top", sorted=True)
        self.value[kind][name] = best_v
        self.index[kind][name] = torch.gather(both_i, -1, where)

    def update(self, values: Mapping[str, torch.Tensor], sample_ids: torch.Tensor) -> None:
        """Fold in a batch: ``values`` gate -> (N, P, C), ``sample_ids`` (N,) the images' ids."""
        ids = sample_ids.to(self.device, torch.int64)
        for g in self.gates:
            v = values[g.name].to(self.device, torch.float32).reshape(ids.shape[0], g.paths, g.channels)
            v = v.permute(1, 2, 0)                                           # (P, C, N)
            index = ids.view(1, 1, -1).expand_as(v)
            for kind in _KINDS:
                self._fold(kind, g.name, v, index)

    def merge_(self, other: TopImages) -> TopImages:
        for g in self.gates:
            for kind in _KINDS:
                self._fold(kind, g.name, other.value[kind][g.name].to(self.device),
                           other.index[kind][g.name].to(self.device))
        return self

    def state_dict(self) -> dict[str, torch.Tensor]:
        out = {}
        for kind in _KINDS:
            for name in self.value[kind]:
                out[top_value_name(kind, name)] = self.value[kind][name].cpu()
                out[top_index_name(kind, name)] = self.index[kind][name].cpu()
        return out

    def load_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        for kind in _KINDS:
            for name in self.value[kind]:
                self.value[kind][name] = state[top_value_name(kind, name)].to(self.device)
                self.index[kind][name] = state[top_index_name(kind, name)].to(self.device)

    def referenced(self) -> list[int]:
        """Sample ids that appear in any list (sorted)."""
        ids = torch.cat([t.reshape(-1) for kind in _KINDS for t in self.index[kind].values()]) if self.gates \
            else torch.empty(0, dtype=torch.int64)
        return sorted(int(i) for i in torch.unique(ids.cpu()) if i >= 0)
