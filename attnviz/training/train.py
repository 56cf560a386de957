"""Training of the bundled models on an ImageFolder dataset (Imagenette in our case).

The recipe is small-data ImageNet practice: random-resized-crop + flip at a lower train resolution
than the test resolution (the "FixRes" effect: objects look bigger at test time, which a model
trained on random crops expects), SGD with Nesterov momentum, a linear warm-up then cosine decay,
label smoothing, and no weight decay on BatchNorm and biases. Every epoch ends with a checkpoint
holding the model, optimiser, schedule and history, so ``--resume`` continues a long CPU run in a
later session exactly where it stopped; the data order of epoch e depends only on (seed, e).
"""
from __future__ import annotations

import json
import math
import platform
import random
import shlex
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from collections.abc import Callable

import numpy as np
import torch
import torch.nn as nn
from safetensors.torch import save_file
from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD, create_transform
from torch.utils.data import DataLoader, RandomSampler
from torchvision.datasets import ImageFolder

from ..models.architectures import build_architecture
from ..runtime.atomic import atomic_path, write_text
from ..models.classes import folder_class_name, imagenet_index
from ..runtime.devices import resolve_device


@dataclass
class TrainConfig:
    data: str
    arch: str
    out: str
    epochs: int = 16
    batch_size: int = 64
    lr: float = 0.1
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    warmup_epochs: float = 1.0
    train_size: int = 112
    eval_size: int = 128
    crop_pct: float = 0.875
    workers: int = 2
    threads: int = 0
    seed: int = 0
    device: str = "auto"
    eval_every: int = 4
    limit: int = 0  # use only the first N training images (smoke tests); 0 = all
    command: str = field(default_factory=lambda: "attnviz " + " ".join(shlex.quote(a) for a in sys.argv[1:]))


def preprocessing_config(eval_size: int, crop_pct: float) -> dict:
    """The evaluation preprocessing of a bundled model, in timm's data-config vocabulary."""
    return {
        "input_size": [3, eval_size, eval_size],
        "interpolation": "bilinear",
        "crop_pct": crop_pct,
        "crop_mode": "center",
        "mean": list(IMAGENET_DEFAULT_MEAN),
        "std": list(IMAGENET_DEFAULT_STD),
    }


def _param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for _name, p in model.named_parameters():
        # BatchNorm scales/shifts and biases are 1-d: decaying them only hurts small models.
        (no_decay if p.ndim <= 1 else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def _lr_factor(step: int, total: int, warmup: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def evaluate_loader(model: nn.Module, loader: DataLoader, device: torch.device,
                    num_classes: int) -> dict:
    """Top-1/top-5 and per-class top-1 of ``model`` over ``loader``."""
    model.eval()
    correct1 = correct5 = seen = 0
    per_class_correct = torch.zeros(num_classes, dtype=torch.long)
    per_class_seen = torch.zeros(num_classes, dtype=torch.long)
    with torch.inference_mode():
        for images, targets in loader:
            images = images.to(device, non_blocking=True)
            logits = model(images).float().cpu()
            top = logits.topk(min(5, num_classes), dim=1).indices
            hit1 = top[:, 0] == targets
            correct1 += int(hit1.sum())
            correct5 += int((top == targets[:, None]).any(dim=1).sum())
            seen += len(targets)
            per_class_seen += torch.bincount(targets, minlength=num_classes)
            per_class_correct += torch.bincount(targets[hit1], minlength=num_classes)
    return {
        "top1": correct1 / max(1, seen),
        "top5": correct5 / max(1, seen),
        "images": seen,
        "per_class_top1": (per_class_correct / per_class_seen.clamp(min=1)).tolist(),
        "per_class_images": per_class_seen.tolist(),
    }


def _seed_epoch(generator: torch.Generator, seed: int, epoch: int) -> None:
    """Data order and augmentation of epoch ``epoch`` depend on (seed, epoch) only."""
    epoch_seed = seed * 1000 + epoch
    generator.manual_seed(epoch_seed)
    torch.manual_seed(epoch_seed)
    random.seed(epoch_seed)
    np.random.seed(epoch_seed % 2**32)


def _checkpoint_path(out: Path) -> Path:
    return out.with_suffix(".ckpt.pt")


@dataclass
class _Progress:
    """Where a training run stands: epochs done, their records and seconds, the commands that ran
    it and any change of schedule length (resumed from the checkpoint, or a fresh start)."""

    epoch: int = 0
    history: list[dict] = field(default_factory=list)
    elapsed: float = 0.0
    commands: list[str] = field(default_factory=list)
    schedule_changes: list[dict] = field(default_factory=list)


def train(cfg: TrainConfig, log: Callable[[str], None] = print) -> dict:
    """Train ``cfg.arch`` on ``cfg.data``/train, evaluate on ``cfg.data``/val, write the weights.

    Writes ``cfg.out`` (fp16 safetensors) and beside it ``<name>.json`` with the architecture,
    classes, preprocessing, the exact command, the history and the measured val accuracy.
    Returns that metadata.
    """
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = resolve_device(cfg.device)
    out = Path(cfg.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    pre = preprocessing_config(cfg.eval_size, cfg.crop_pct)
    train_set, val_set = _datasets(cfg, pre)
    num_classes = len(train_set.classes)

    torch.manual_seed(cfg.seed)
    model = build_architecture(cfg.arch, num_classes).to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(_param_groups(model, cfg.weight_decay), lr=cfg.lr, momentum=0.9,
                                nesterov=True)
    criterion = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    generator = torch.Generator()
    train_loader, val_loader = _loaders(cfg, device, train_set, val_set, generator)

    ckpt_path = _checkpoint_path(out)
    progress = _resume(ckpt_path, cfg, model, optimizer, device, log)
    for epoch in range(progress.epoch, cfg.epochs):
        _seed_epoch(generator, cfg.seed, epoch)
        record = _train_epoch(cfg, model, train_loader, optimizer, criterion, device, epoch)
        progress.elapsed += record["seconds"]
        record["seconds"] = round(record["seconds"], 1)
        if (epoch + 1) % cfg.eval_every == 0 or epoch + 1 == cfg.epochs:
            record["val_top1"] = evaluate_loader(model, val_loader, device, num_classes)["top1"]
        progress.history.append(record)
        progress.epoch = epoch + 1
        _save_checkpoint(ckpt_path, cfg, model, optimizer, progress)
        log(json.dumps(record))

    final = evaluate_loader(model, val_loader, device, num_classes)
    weights = _write_weights(model, out)
    # Accuracy of the fp16 file as shipped, not of the fp32 model in memory.
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in weights.items()})
    shipped = evaluate_loader(model, val_loader, device, num_classes)
    meta = _metadata(cfg, out, model, train_set, val_set, pre, progress, device,
                     {"fp32_top1": final["top1"], **shipped})
    write_text(out.with_suffix(".json"), json.dumps(meta, indent=1))
    log(f"wrote {out} (val top-1 {shipped['top1']:.4f}, top-5 {shipped['top5']:.4f})")
    return meta


def _datasets(cfg: TrainConfig, pre: dict) -> tuple[ImageFolder, ImageFolder]:
    """The train and val class folders with their transforms (``cfg.limit``: evenly spaced subsets)."""
    data = Path(cfg.data)
    train_tf = create_transform(
        cfg.train_size, is_training=True, scale=(0.35, 1.0), hflip=0.5, color_jitter=0.2,
        interpolation="bilinear",
    )
    eval_tf = create_transform(
        cfg.eval_size, interpolation=pre["interpolation"], crop_pct=cfg.crop_pct,
        mean=tuple(pre["mean"]), std=tuple(pre["std"]),
    )
    train_set = ImageFolder(data / "train", transform=train_tf)
    val_set = ImageFolder(data / "val", transform=eval_tf)
    if train_set.classes != val_set.classes:
        raise ValueError(f"train and val class folders differ under {data}")
    if cfg.limit:
        train_set.samples = train_set.samples[:: max(1, len(train_set.samples) // cfg.limit)][: cfg.limit]
        val_set.samples = val_set.samples[:: max(1, len(val_set.samples) // cfg.limit)][: cfg.limit]
    return train_set, val_set


def _loaders(cfg: TrainConfig, device: torch.device, train_set: ImageFolder, val_set: ImageFolder,
             generator: torch.Generator) -> tuple[DataLoader, DataLoader]:
    """Shuffled training batches drawn with ``generator``, and the val set in order."""
    # Workers are not persistent: each epoch's workers take their seeds from the RNG state that
    # _seed_epoch sets, so an epoch is the same whether the run was resumed or not.
    pin_memory = device.type == "cuda"
    train_loader = DataLoader(train_set, sampler=RandomSampler(train_set, generator=generator), drop_last=True,
                              batch_size=cfg.batch_size, num_workers=cfg.workers, pin_memory=pin_memory)
    val_loader = DataLoader(val_set, shuffle=False, batch_size=cfg.batch_size, num_workers=cfg.workers,
                            pin_memory=pin_memory)
    return train_loader, val_loader


def _resume(ckpt_path: Path, cfg: TrainConfig, model: nn.Module, optimizer: torch.optim.Optimizer,
            device: torch.device, log: Callable[[str], None]) -> _Progress:
    """The run's progress from its checkpoint (model and optimizer restored), else a fresh start."""
    if not ckpt_path.exists():
        return _Progress(commands=[cfg.command])
    state = torch.load(ckpt_path, map_location=device, weights_only=True)
    if state["config"]["arch"] != cfg.arch:
        raise ValueError(f"{ckpt_path} belongs to a run of {state['config']['arch']}; move it away")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    progress = _Progress(epoch=state["epoch"], history=state["history"], elapsed=state["elapsed_s"],
                         commands=state.get("commands", [state["config"]["command"]]) + [cfg.command],
                         schedule_changes=state.get("schedule_changes", []))
    if state["config"]["epochs"] != cfg.epochs:
        # A resumed run may lengthen or shorten the schedule (e.g. to fit a session); the
        # cosine decay then follows the new length from here on, and the change is recorded.
        if cfg.epochs <= progress.epoch:
            raise ValueError(f"{ckpt_path} already has {progress.epoch} epochs; ask for more than that")
        progress.schedule_changes.append({"after_epoch": progress.epoch, "from_epochs": state["config"]["epochs"],
                                          "to_epochs": cfg.epochs})
    log(f"resumed from {ckpt_path} after epoch {progress.epoch}")
    return progress


def _train_epoch(cfg: TrainConfig, model: nn.Module, loader: DataLoader, optimizer: torch.optim.Optimizer,
                 criterion: nn.Module, device: torch.device, epoch: int) -> dict:
    """One pass over the training batches (the lr set at each step); the epoch's record, its
    ``seconds`` unrounded."""
    model.train()
    steps_per_epoch = len(loader)
    total_steps = steps_per_epoch * cfg.epochs
    warmup_steps = int(cfg.warmup_epochs * steps_per_epoch)
    t0 = time.perf_counter()
    loss_sum = correct = seen = 0.0
    for i, (images, targets) in enumerate(loader):
        step = epoch * steps_per_epoch + i
        for group in optimizer.param_groups:
            group["lr"] = cfg.lr * _lr_factor(step, total_steps, warmup_steps)
        images = images.to(device, non_blocking=True)
        targets = targets.to(device, non_blocking=True)
        if device.type == "cuda":
            images = images.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            logits = model(images)
            loss = criterion(logits, targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_sum += float(loss.detach()) * len(targets)
        correct += float((logits.argmax(1) == targets).sum())
        seen += len(targets)
    return {"epoch": epoch + 1, "train_loss": loss_sum / seen, "train_top1": correct / seen,
            "seconds": time.perf_counter() - t0}


def _save_checkpoint(ckpt_path: Path, cfg: TrainConfig, model: nn.Module, optimizer: torch.optim.Optimizer,
                     progress: _Progress) -> None:
    with atomic_path(ckpt_path) as tmp:  # Ctrl-C mid-save keeps the last epoch's checkpoint
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "epoch": progress.epoch, "history": progress.history, "elapsed_s": progress.elapsed,
                    "config": asdict(cfg), "commands": progress.commands,
                    "schedule_changes": progress.schedule_changes}, tmp)


def _write_weights(model: nn.Module, out: Path) -> dict[str, torch.Tensor]:
    """The model's weights in fp16 (other tensors as they are) written to ``out``; returns them."""
    weights = {k: v.detach().to("cpu", torch.float16 if v.is_floating_point() else v.dtype).contiguous()
               for k, v in model.state_dict().items()}
    with atomic_path(out) as tmp:
        save_file(weights, str(tmp))
    return weights


def _metadata(cfg: TrainConfig, out: Path, model: nn.Module, train_set: ImageFolder, val_set: ImageFolder,
              pre: dict, progress: _Progress, device: torch.device, val: dict) -> dict:
    """What the ``.json`` beside the weights says about the model and its training."""
    return {
        "name": out.stem,
        "arch": cfg.arch,
        "num_classes": len(train_set.classes),
        "class_folders": train_set.classes,
        "class_names": [folder_class_name(c) for c in train_set.classes],
        "imagenet_indices": [imagenet_index(c) for c in train_set.classes],
        "preprocessing": pre,
        "params": sum(p.numel() for p in model.parameters()),
        "training": {
            "data": str(Path(cfg.data)),
            "train_images": len(train_set),
            "val_images": len(val_set),
            "config": asdict(cfg),
            "command": cfg.command,
            "commands": progress.commands,
            "schedule_changes": progress.schedule_changes,
            "history": progress.history,
            "train_seconds": round(progress.elapsed, 1),
            "hardware": _hardware(device),
            "torch": torch.__version__,
        },
        "val": val,
    }


def _hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"
