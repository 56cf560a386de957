"""``LoadedModel``: a model ready for analysis, whatever it was loaded from."""
from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Callable, Sequence

import torch
import torch.nn as nn
from PIL import Image

from ...runtime.devices import autocast, describe_device
from ...errors import GateNotFound
from ...gates import AttentionKind, Gate
from ...i18n import _, listing
from ...views.kinds import view_of
from ..preprocess import eval_transform
from .bundled import BundledModel


@dataclass(frozen=True)
class LoadedModel:
    """A model ready for analysis: weights, preprocessing, class names and its gates.

    Frozen: one LoadedModel is shared by every session of the app (a cached resource), so no
    session may rebind its fields; a variant is made with ``dataclasses.replace``."""

    name: str
    model: nn.Module
    device: torch.device
    data_config: dict
    class_names: list[str]
    gates: list[Gate]
    source: str  # 'bundled' | 'pretrained' | 'file' | 'random' | 'custom'
    weights: str | None = None
    amp: str | None = None
    channels_last: bool = False
    meta: BundledModel | None = None  # the card of a bundled model; None for any other source
    transform: Callable[[Image.Image], torch.Tensor] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # timm's evaluation transform, computed crop-first: memory follows the input size.
        # (object.__setattr__: the dataclass is frozen; this is its one derived field.)
        object.__setattr__(self, "transform", eval_transform(self.data_config))

    @property
    def input_size(self) -> int:
        return int(self.data_config["input_size"][-1])

    @property
    def kinds_text(self) -> str:
        """The attention kinds present, named for the reader ('Squeeze-and-Excitation', or that there is none)."""
        return listing(view_of(kind).heading() for kind in self.kinds) or _("no attention gate attnviz recognises")

    @property
    def kinds(self) -> list[AttentionKind]:
        """Attention kinds present, in depth order of first appearance."""
        return list(dict.fromkeys(g.kind for g in self.gates))

    @property
    def num_params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    @property
    def device_label(self) -> str:
        return describe_device(self.device)

    def gate(self, name: str) -> Gate:
        for g in self.gates:
            if g.name == name:
                return g
        raise GateNotFound(name, self.name, [g.name for g in self.gates])

    def preprocess(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """RGB PIL images -> normalised batch on the model's device (and memory format)."""
        batch = torch.stack([self.transform(img) for img in images])
        return self.to_device(batch)

    def to_device(self, batch: torch.Tensor) -> torch.Tensor:
        batch = batch.to(self.device, non_blocking=True)
        if self.channels_last:
            batch = batch.contiguous(memory_format=torch.channels_last)
        return batch

    def autocast(self):
        return autocast(self.device, self.amp)
