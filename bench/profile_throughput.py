"""Throughput of `attnviz profile` against a plain timm forward pass over the same batches.

Both sides use the same model, batch size, dtype, memory format and DataLoader (attnviz's own:
workers decode and preprocess, pinned memory, non-blocking copies). Two measurements:

* **cached** (default): a few batches are loaded once and kept (pinned) in memory; then the plain
  forward (``model(x)``) and the profiling step (forward with capture + on-device statistics
  update, exactly the code ``profile_dataset`` runs) go over them, interleaved
  (plain, profile, plain, profile, ...) so that machine noise hits both alike. The ratio of the
  median images/s isolates what profiling adds to the model's own work.
* **end-to-end** (``--end-to-end``): ``profile_dataset`` itself over the data (decoding, checkpoints
  off) against a plain loop of forwards over an identical DataLoader.

Target: ratio >= 0.90.

    python bench/profile_throughput.py --model seresnet18 --data ../shared/data/imagenette-224/val
    python bench/profile_throughput.py --model seresnet50 --synthetic 2048 --device cuda --amp bf16 \\
        --channels-last --batch-size 256 --workers 12 --end-to-end
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader

from attnviz.profiles.builder.accumulator import ProfileAccumulator
from attnviz.profiles.builder.datasets import ProfileImages, collate, image_folder
from attnviz.profiles.builder.runner import model_targets, profile_dataset, profiling_step
from attnviz.models.zoo import load_model


def synthetic_folder(root: Path, images: int, classes: int = 10, side: int = 320) -> Path:
    """An ImageFolder of random-noise JPEGs (for machines without the data sets)."""
    rng = np.random.default_rng(0)
    for i in range(images):
        folder = root / f"class{i % classes:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (side, side * 4 // 3, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{i:06d}.jpg", quality=90)
    return root


def _loader(loaded, data, batch_size: int, workers: int, limit: int | None = None) -> DataLoader:
    samples = data.samples[:limit] if limit else data.samples
    return DataLoader(ProfileImages(samples, loaded.transform, (1.0,), data.root), batch_size=batch_size,
                      num_workers=workers, collate_fn=collate, pin_memory=loaded.device.type == "cuda",
                      prefetch_factor=4 if workers > 0 else None, shuffle=False)


def _sync(loaded):
    return torch.cuda.synchronize if loaded.device.type == "cuda" else (lambda: None)


def cached(loaded, data, args) -> dict:
    """Median images/s of plain forwards and of profiling steps over the same in-memory batches."""
    batches = [b for _, b in zip(range(args.batches), _loader(loaded, data, args.batch_size, args.workers), strict=False)]
    images = sum(len(b) for b in batches)
    sync = _sync(loaded)
    acc = ProfileAccumulator(loaded.gates, len(data.class_names), 1, loaded.device)
    targets = model_targets(loaded, data.class_folders, data.class_names)

    def plain() -> None:
        with torch.inference_mode():
            for b in batches:
                with loaded.autocast():
                    loaded.model(loaded.to_device(b.views[0]))

    def profiled() -> None:
        with profiling_step(loaded, acc, targets) as step:
            for b in batches:
                step(b.views, b.labels)

    def timed(fn) -> float:
        sync()
        start = time.perf_counter()
        fn()
        sync()
        return images / (time.perf_counter() - start)

    plain(), profiled()  # warm-up: allocator, oneDNN / cuDNN algorithm choice
    rates = {"plain": [], "profile": []}
    for _ in range(args.repeats):
        rates["plain"].append(timed(plain))
        rates["profile"].append(timed(profiled))
    return {"images": images, **{k: statistics.median(v) for k, v in rates.items()}}


def end_to_end(loaded, data, args) -> dict:
    """profile_dataset against a plain loop over an identical DataLoader (decoding included)."""
    sync = _sync(loaded)
    limit = args.batches * args.batch_size
    subset = type(data)(data.root, data.samples[:limit], data.class_folders, data.class_names)

    def plain() -> float:
        sync()
        start = time.perf_counter()
        with torch.inference_mode():
            for b in _loader(loaded, subset, args.batch_size, args.workers):
                with loaded.autocast():
                    loaded.model(loaded.to_device(b.views[0]))
        sync()
        return len(subset) / (time.perf_counter() - start)

    def profiled() -> float:
        sync()
        start = time.perf_counter()
        profile_dataset(loaded, subset, batch_size=args.batch_size, workers=args.workers, progress=False)
        sync()
        return len(subset) / (time.perf_counter() - start)

    plain(), profiled()
    rates = {"plain": [], "profile": []}
    for _ in range(args.repeats):
        rates["plain"].append(plain())
        rates["profile"].append(profiled())
    return {"images": len(subset), **{k: statistics.median(v) for k, v in rates.items()}}


def update_cost(loaded, batch_size: int, classes: int, repeats: int = 20) -> float:
    """Median milliseconds of one accumulator update (every gate) for a batch spread over
    ``classes`` classes: what profiling adds per batch besides the capture hooks."""
    sync = _sync(loaded)
    acc = ProfileAccumulator(loaded.gates, classes, 1, loaded.device)
    values = {g.name: torch.rand(batch_size, g.paths, g.channels, device=loaded.device) for g in loaded.gates}
    labels = torch.randint(0, classes, (batch_size,), device=loaded.device)
    correct = torch.zeros(batch_size, dtype=torch.bool, device=loaded.device)
    times = []
    for i in range(repeats + 3):
        sync()
        start = time.perf_counter()
        acc.update(0, labels, values, correct)
        sync()
        if i >= 3:
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", nargs="+", default=["seresnet18"], help="timm architectures (random weights)")
    parser.add_argument("--data", help="ImageFolder split (class subfolders)")
    parser.add_argument("--synthetic", type=int, default=0, metavar="N", help="use N random JPEGs instead of --data")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--batches", type=int, default=6, help="batches per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved measurements; the median is reported")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--amp", default="off", choices=["off", "bf16", "fp16"])
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    parser.add_argument("--end-to-end", action="store_true", help="also time profile_dataset with decoding")
    parser.add_argument("--update-classes", type=int, default=0, metavar="K",
                        help="also time one statistics update per batch with K classes (e.g. 1000)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        if args.synthetic:
            root = synthetic_folder(Path(tmp), args.synthetic)
        elif args.data:
            root = Path(args.data)
        else:
            parser.error("give --data FOLDER or --synthetic N")
        data = image_folder(root)
        # Interleave the classes so the first batches hold every class, as a whole run would.
        data.samples = sorted(data.samples, key=lambda s: (s[0].name, s[1]))
        print(f"{'model':<14} {'device':<26} {'amp':<4} {'CL':<3} {'batch':>5} {'mode':<10} "
              f"{'images':>6} {'plain img/s':>11} {'profile img/s':>13} {'ratio':>6}")
        for name in args.model:
            torch.manual_seed(0)
            loaded = load_model(name, pretrained=False, device=args.device, amp=args.amp,
                                channels_last=args.channels_last)
            modes = [("cached", cached)] + ([("end-to-end", end_to_end)] if args.end_to_end else [])
            for mode, fn in modes:
                r = fn(loaded, data, args)
                print(f"{name:<14} {loaded.device_label[:26]:<26} {args.amp:<4} "
                      f"{'y' if loaded.channels_last else 'n':<3} {args.batch_size:>5} {mode:<10} "
                      f"{r['images']:>6} {r['plain']:>11.1f} {r['profile']:>13.1f} "
                      f"{r['profile'] / r['plain']:>6.3f}", flush=True)
            if args.update_classes:
                ms = update_cost(loaded, args.batch_size, args.update_classes)
                print(f"{name:<14} statistics update, {args.update_classes} classes: {ms:.2f} ms per batch "
                      f"of {args.batch_size} ({len(loaded.gates)} gates)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
