"""Training on one GPU against a time budget, from a packed copy of the data held on the GPU.

``attnviz.training.train`` streams JPEGs through DataLoader workers, which suits a CPU that trains for hours.
On a GPU lent for minutes, with a handful of CPU cores and nothing but the repository carried over
(``bench/gpu/``), the loader would be the limit. So here:

* ``pack_folder`` (on the development machine) re-encodes an ImageFolder split at the training
  size as WebP inside one ``.npz`` file: Imagenette's train split at 176 px is about 34 MiB,
  small enough to travel with the repository;
* ``read_packed`` decodes it once (a thread pool) into one uint8 tensor that stays on the GPU;
* ``augment`` makes every batch on the GPU: random-resized crop and horizontal flip as one
  ``affine_grid``/``grid_sample`` per batch, then brightness/contrast/saturation jitter and the
  ImageNet normalisation, all tensor ops;
* ``train_budgeted`` trains for a wall-clock budget with bf16 autocast and channels_last: the
  learning rate follows warm-up then cosine decay over the *fraction of the budget spent*, so
  the run ends at lr 0 whatever the GPU's speed, after as many epochs as fit.

The recipe otherwise is ``attnviz.training.train``'s (SGD with Nesterov momentum, label smoothing, no weight
decay on BatchNorm and biases), and so is the output: fp16 safetensors and the metadata that
``attnviz bundle`` turns into a bundled model (evaluation and profiles are done there, on the
full val split).
"""
from __future__ import annotations

import io
import json
import math
import os
import platform
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from collections.abc import Callable

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import save_file
from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

from ..models.architectures import build_architecture
from ..models.classes import folder_class_name, imagenet_index
from ..runtime.devices import resolve_device
from ..images.sampling import evenly_spaced
from .train import _param_groups, preprocessing_config

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


# ---------------------------------------------------------------- packed data


@dataclass
class PackedImages:
    """Decoded images of one split: ``images`` (N, 3, S, S) uint8, ``labels`` (N,) int64."""

    images: torch.Tensor
    labels: torch.Tensor
    class_folders: list[str]
    info: dict  # how the file was made: source, size, quality, the source split's image counts

    def __len__(self) -> int:
        return len(self.labels)


def pack_folder(split: str | Path, out: str | Path, size: int = 176, quality: int = 70,
                limit: int = 0, extra_info: dict | None = None) -> dict:
    """Re-encode an ImageFolder split (class subfolders) as ``size`` x ``size`` WebP in one .npz.

    Images are resized whole (Imagenette-224's are square already; others are squashed, as a
    random-resized crop with aspect jitter would do anyway). ``limit`` keeps an evenly spaced
    subset of N images (tests). Returns the file's info (also stored in it).
    """
    split, out = Path(split), Path(out)
    classes = sorted(p.name for p in split.iterdir() if p.is_dir())
    if not classes:
        raise ValueError(f"{split} has no class subfolders; pass an ImageFolder split such as imagenette-224/train")
    samples = [(f, k) for k, c in enumerate(classes) for f in sorted((split / c).iterdir())
               if f.suffix.lower() in IMAGE_SUFFIXES]
    total = len(samples)
    if limit:
        samples = evenly_spaced(samples, limit)

    def encode(path: Path) -> bytes:
        with Image.open(path) as im:
            small = im.convert("RGB").resize((size, size), Image.Resampling.BILINEAR, reducing_gap=None)
            buf = io.BytesIO()
            small.save(buf, "WEBP", quality=quality, method=6)
            return buf.getvalue()

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        blobs = list(pool.map(encode, [f for f, _ in samples]))
    offsets = np.zeros(len(blobs) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(b) for b in blobs])
    info = {"source": str(split), "size": size, "quality": quality, "format": "webp",
            "images": len(samples), "source_images": total, **(extra_info or {})}
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, data=np.frombuffer(b"".join(blobs), dtype=np.uint8), offsets=offsets,
             labels=np.array([k for _, k in samples], dtype=np.int16), classes=np.array(classes),
             info=np.array(json.dumps(info)))
    return info


def read_packed(path: str | Path, device: str | torch.device = "cpu", workers: int = 0) -> PackedImages:
    """Decode a ``pack_folder`` file once (threads: PIL releases the GIL) onto ``device``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; make it with bench/gpu/prepare_data.py")
    with np.load(path, allow_pickle=False) as z:
        data, offsets, labels = z["data"], z["offsets"], z["labels"].astype(np.int64)
        classes, info = [str(c) for c in z["classes"]], json.loads(str(z["info"]))

    def decode(i: int) -> np.ndarray:
        with Image.open(io.BytesIO(data[offsets[i]:offsets[i + 1]].tobytes())) as im:
            return np.asarray(im.convert("RGB"))

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        pixels = np.stack(list(pool.map(decode, range(len(labels)))))
    images = torch.from_numpy(pixels).to(resolve_device(device)).permute(0, 3, 1, 2).contiguous()
    return PackedImages(images, torch.from_numpy(labels).to(images.device), classes, info)


# ---------------------------------------------------------------- augmentation on the device


def crop_boxes(n: int, scale: tuple[float, float], ratio: tuple[float, float], hflip: float,
               generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """Random-resized-crop boxes as ``affine_grid`` matrices (n, 2, 3), in [-1, 1] coordinates.

    Area fraction ~ U(scale), log aspect ~ U(log ratio) as in torchvision's RandomResizedCrop;
    where the box would leave the image its sides are clipped to the image (torchvision retries
    instead), then the centre is uniform over the positions that keep it inside. A negative x
    scale is a horizontal flip, taken with probability ``hflip``.
    """
    u = torch.rand(n, 4, generator=generator, device=device)
    area = scale[0] + (scale[1] - scale[0]) * u[:, 0]
    log_r = math.log(ratio[0]) + (math.log(ratio[1]) - math.log(ratio[0])) * u[:, 1]
    w = torch.sqrt(area * torch.exp(log_r)).clamp(max=1.0)
    h = torch.sqrt(area / torch.exp(log_r)).clamp(max=1.0)
    cx = (1 - w) * (2 * u[:, 2] - 1)
    cy = (1 - h) * (2 * u[:, 3] - 1)
    flip = torch.where(torch.rand(n, generator=generator, device=device) < hflip, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3, device=device)
    theta[:, 0, 0], theta[:, 0, 2] = w * flip, cx
    theta[:, 1, 1], theta[:, 1, 2] = h, cy
    return theta


def resample(images: torch.Tensor, theta: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 (n, 3, H, W) -> float (n, 3, size, size) in [0, 1]: bilinear sampling of each box."""
    x = images.float().div_(255)
    grid = F.affine_grid(theta, [len(x), 3, size, size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


GREY = (0.2989, 0.587, 0.114)  # torchvision's rgb_to_grayscale weights


def _grey(x: torch.Tensor) -> torch.Tensor:
    return (GREY[0] * x[:, 0] + GREY[1] * x[:, 1] + GREY[2] * x[:, 2]).unsqueeze(1)


def adjust_colours(x: torch.Tensor, factors: torch.Tensor) -> torch.Tensor:
    """Brightness, contrast, saturation with per-image ``factors`` (3, n), in that order, as
    torchvision's ``adjust_brightness/contrast/saturation`` define them on float images."""
    f = factors.view(3, len(x), 1, 1, 1)
    x = (x * f[0]).clamp(0, 1)
    mean = _grey(x).mean(dim=(1, 2, 3), keepdim=True)
    x = (f[1] * x + (1 - f[1]) * mean).clamp(0, 1)
    return (f[2] * x + (1 - f[2]) * _grey(x)).clamp(0, 1)


def colour_jitter(x: torch.Tensor, strength: float, generator: torch.Generator) -> torch.Tensor:
    """Brightness, contrast and saturation factors ~ U(1 - s, 1 + s) per image."""
    if strength <= 0:
        return x
    factors = 1 + strength * (2 * torch.rand(3, len(x), generator=generator, device=x.device) - 1)
    return adjust_colours(x, factors)


def normalise(x: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(IMAGENET_DEFAULT_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_DEFAULT_STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def augment(images: torch.Tensor, size: int, generator: torch.Generator, scale=(0.35, 1.0),
            ratio=(3 / 4, 4 / 3), hflip: float = 0.5, jitter: float = 0.2) -> torch.Tensor:
    """A training batch from uint8 images on the device: crop + flip + jitter + normalisation."""
    theta = crop_boxes(len(images), scale, ratio, hflip, generator, images.device)
    return normalise(colour_jitter(resample(images, theta, size), jitter, generator))


# ---------------------------------------------------------------- training


@dataclass
class BudgetConfig:
    data: str
    arch: str
    out: str
    seconds: float = 100.0
    batch_size: int = 256
    lr: float = 0.4            # attnviz.training.train's 0.1 at batch 64, scaled linearly
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    warmup_fraction: float = 0.04
    train_size: int = 160
    eval_size: int = 192
    crop_pct: float = 0.875
    scale: tuple[float, float] = (0.35, 1.0)
    jitter: float = 0.2
    seed: int = 0
    device: str = "auto"
    amp: str = "bf16"          # autocast dtype on CUDA ('off' for float32); CPU runs float32
    channels_last: bool = True
    max_steps: int = 0         # stop after N steps (tests); 0 = the budget alone decides
    command: str = ""


def lr_factor(progress: float, warmup: float) -> float:
    """Linear warm-up over the first ``warmup`` of the budget, then cosine decay to 0 at 1."""
    if progress < warmup:
        return (progress + 1e-3) / warmup
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (progress - warmup) / max(1e-9, 1 - warmup))))


def hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def train_budgeted(cfg: BudgetConfig, data: PackedImages, log: Callable[[str], None] = print) -> dict:
    """Train ``cfg.arch`` on ``data`` (already on the device) for ``cfg.seconds`` of wall clock.

    Writes ``cfg.out`` (fp16 safetensors) and returns the metadata for ``<name>.json`` (the
    format of ``attnviz.training.train``, which ``attnviz bundle`` reads).
    """
    device = data.images.device
    out = Path(cfg.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    model = build_architecture(cfg.arch, len(data.class_folders)).to(device)
    memory_format = torch.channels_last if cfg.channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    optimizer = torch.optim.SGD(_param_groups(model, cfg.weight_decay), lr=cfg.lr, momentum=0.9, nesterov=True)
    criterion = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    use_amp = device.type == "cuda" and cfg.amp != "off"
    amp_dtype = torch.float16 if cfg.amp == "fp16" else torch.bfloat16
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)
    generator = torch.Generator(device=device)
    generator.manual_seed(cfg.seed)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True

    n, bs = len(data), min(cfg.batch_size, len(data))
    steps_per_epoch = n // bs
    history: list[dict] = []
    step, epoch, progress = 0, 0, 0.0
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    done = False
    while not done:
        model.train()
        epoch_start, epoch_steps = time.perf_counter(), 0
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        order = torch.randperm(n, device=device, generator=generator)
        for i in range(steps_per_epoch):
            # The clock is read on the host without a device sync: the host runs at most the CUDA
            # queue ahead of the GPU, a few steps out of thousands.
            progress = (time.perf_counter() - start) / cfg.seconds
            if progress >= 1.0 or (cfg.max_steps and step >= cfg.max_steps):
                done = True
                break
            for group in optimizer.param_groups:
                group["lr"] = cfg.lr * lr_factor(progress, cfg.warmup_fraction)
            idx = order[i * bs:(i + 1) * bs]
            x = augment(data.images[idx], cfg.train_size, generator, scale=cfg.scale, jitter=cfg.jitter)
            x = x.contiguous(memory_format=memory_format)
            y = data.labels[idx]
            with torch.autocast(device.type, dtype=amp_dtype, enabled=use_amp):
                logits = model(x)
                loss = criterion(logits, y)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            loss_sum += loss.detach().float() * len(y)
            correct += (logits.detach().argmax(1) == y).sum()
            step, epoch_steps = step + 1, epoch_steps + 1
        if epoch_steps == 0:
            break
        sync()
        seconds = time.perf_counter() - epoch_start
        seen = epoch_steps * bs
        epoch += 1
        record = {"arch": cfg.arch, "epoch": epoch, "steps": epoch_steps, "complete": epoch_steps == steps_per_epoch,
                  "train_loss": round(float(loss_sum) / seen, 4), "train_top1": round(int(correct) / seen, 4),
                  "seconds": round(seconds, 2), "images_per_s": round(seen / seconds, 1),
                  "lr_end": round(optimizer.param_groups[0]["lr"], 5)}
        history.append(record)
        log(json.dumps(record))
    elapsed = time.perf_counter() - start

    weights = {k: v.detach().to("cpu", torch.float16 if v.is_floating_point() else v.dtype).contiguous()
               for k, v in model.state_dict().items()}
    save_file(weights, str(out))
    complete = sum(r["complete"] for r in history)
    config = asdict(cfg)
    # The names attnviz.training.bundle.model_card reads, in attnviz.training.train's vocabulary.
    config.update(epochs=complete, warmup_epochs=round(cfg.warmup_fraction * (step / max(1, steps_per_epoch)), 2))
    meta = {
        "name": out.stem,
        "arch": cfg.arch,
        "num_classes": len(data.class_folders),
        "class_folders": data.class_folders,
        "class_names": [folder_class_name(c) for c in data.class_folders],
        "imagenet_indices": [imagenet_index(c) for c in data.class_folders],
        "preprocessing": preprocessing_config(cfg.eval_size, cfg.crop_pct),
        "params": sum(p.numel() for p in model.parameters()),
        "training": {
            "data": data.info.get("source", cfg.data),
            "packed": {k: v for k, v in data.info.items() if k != "source"},
            "train_images": len(data),
            "val_images": int(data.info.get("val_images", 0)),
            "config": config,
            "command": cfg.command,
            "commands": [cfg.command],
            "history": history,
            "steps": step,
            "epochs_complete": complete,
            "train_seconds": round(elapsed, 1),
            "hardware": hardware(device),
            "torch": torch.__version__,
            "augmentation": "on the device: random-resized crop + flip (affine_grid/grid_sample), colour jitter",
            "precision": f"{amp_dtype if use_amp else torch.float32}".replace("torch.", "") + " autocast"
                         + (", channels_last" if cfg.channels_last else ""),
        },
    }
    log(f"wrote {out}: {step} steps, {complete} complete epochs in {elapsed:.0f} s "
        f"({step * bs / max(elapsed, 1e-9):.0f} images/s)")
    return meta


@dataclass
class BudgetPlan:
    """Several architectures trained one after another, sharing ``seconds`` by ``shares``."""

    archs: list[str]
    seconds: float
    shares: list[float] = field(default_factory=list)

    def budgets(self) -> list[float]:
        shares = self.shares or [1.0] * len(self.archs)
        if len(shares) != len(self.archs):
            raise ValueError(f"{len(self.archs)} architectures but {len(shares)} shares")
        total = sum(shares)
        return [self.seconds * s / total for s in shares]
