"""Accuracy of a zoo model on an ImageFolder split, overall and per class."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder

from ..models.classes import class_targets, folder_class_name
from ..errors import AttnvizError
from ..images.loading import load_image
from ..images.sampling import evenly_spaced, first_per_class
from ..models.zoo import LoadedModel, load_model


@dataclass(frozen=True)
class ClassAccuracy:
    """The top-1 accuracy of a model on one class folder of the data.

    folder: the class's folder name (an ImageNet wnid, or the class itself); class_name: its
    readable name (``folder_class_name``); images: how many of its images were evaluated; top1: the
    fraction of those whose top-1 prediction was the class (0 when there were none).
    """

    folder: str
    class_name: str
    images: int
    top1: float

    def to_dict(self) -> dict[str, Any]:
        """As stored in a bundled model's metadata and printed by ``attnviz evaluate --json``."""
        return {"folder": self.folder, "class": self.class_name, "images": self.images, "top1": self.top1}


@dataclass(frozen=True)
class Evaluation:
    """The accuracy of a model on an ImageFolder split, overall and per class.

    model: the model's name; data: the split folder evaluated; images: how many images; top1,
    top5: the fraction whose true class was the first, or among the first five (all of them, for
    a model with fewer than five classes), outputs; per_class: one ClassAccuracy per class folder,
    in the folders' (sorted) order.
    """

    model: str
    data: str
    images: int
    top1: float
    top5: float
    per_class: tuple[ClassAccuracy, ...]

    def to_dict(self) -> dict[str, Any]:
        """As stored in a bundled model's metadata (its ``evaluation``) and printed by ``attnviz
        evaluate --json``: the keys model, data, images, top1, top5 and per_class (a list of
        dicts with folder, class, images, top1)."""
        return {"model": self.model, "data": self.data, "images": self.images, "top1": self.top1,
                "top5": self.top5, "per_class": [c.to_dict() for c in self.per_class]}


def split_folder(data: str | Path, split: str = "val") -> Path:
    root = Path(data)
    if (root / split).is_dir():
        root = root / split
    if not root.is_dir():
        raise AttnvizError(f"{data} is not a folder")
    return root


def evaluate_folder(data: str | Path, model: str | LoadedModel, weights: str | None = None,
                    device: str = "auto", batch_size: int = 64, workers: int = 2, limit: int = 0,
                    split: str = "val", per_class_limit: int = 0) -> Evaluation:
    """Top-1/top-5 and a per-class table of ``model`` on ``data`` (ImageFolder root or split).

    limit: a fixed, evenly spaced subset of N images; per_class_limit: the first N of each class.
    """
    loaded = model if isinstance(model, LoadedModel) else load_model(model, weights=weights, device=device)
    root = split_folder(data, split)
    dataset = ImageFolder(root, transform=loaded.transform, loader=load_image)
    dataset.samples = evenly_spaced(first_per_class(dataset.samples, per_class_limit), limit)
    targets = torch.tensor(class_targets(loaded, dataset.classes))
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=workers,
                        pin_memory=loaded.device.type == "cuda")
    k = min(5, len(loaded.class_names))
    n_cls = len(dataset.classes)
    correct1 = torch.zeros(n_cls, dtype=torch.long)
    correct5 = torch.zeros(n_cls, dtype=torch.long)
    seen = torch.zeros(n_cls, dtype=torch.long)
    with torch.inference_mode():
        for images, folder_idx in loader:
            with loaded.autocast():
                logits = loaded.model(loaded.to_device(images)).float().cpu()
            top = logits.topk(k, dim=1).indices
            truth = targets[folder_idx]
            hit1 = top[:, 0] == truth
            hit5 = (top == truth[:, None]).any(dim=1)
            seen += torch.bincount(folder_idx, minlength=n_cls)
            correct1 += torch.bincount(folder_idx[hit1], minlength=n_cls)
            correct5 += torch.bincount(folder_idx[hit5], minlength=n_cls)
    total = int(seen.sum())
    per_class = tuple(ClassAccuracy(folder=f, class_name=folder_class_name(f), images=int(seen[i]),
                                    top1=float(correct1[i]) / max(1, int(seen[i])))
                      for i, f in enumerate(dataset.classes))
    return Evaluation(model=loaded.name, data=str(root), images=total,
                      top1=float(correct1.sum()) / max(1, total), top5=float(correct5.sum()) / max(1, total),
                      per_class=per_class)
