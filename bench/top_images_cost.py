"""The added cost of --top-images K: the profiling step with and without the top-image lists.

The same preprocessed batches go through ``profiling_step`` (forward with capture, the statistics
update, and for the second variant the top-K fold of every gate, path and channel), interleaved
(without, with, without, with, ...), and the medians are compared. Goal: at most 5 % more time for
K = 9.

    python bench/top_images_cost.py --model se_resnet18_imagenette sk_resnet18_imagenette --k 9
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from attnviz.runtime.devices import configure_cpu_threads
from attnviz.images.loading import load_image
from attnviz.profiles.builder.accumulator import ProfileAccumulator
from attnviz.profiles.builder.runner import profiling_step
from attnviz.profiles.builder.top_images import TopImages
from attnviz.analysis.scale import zoom
from attnviz.models.zoo import load_model

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "imagenette-224" / "val"


def batches(loaded, n_batches: int, size: int, scales: list[float]):
    files = sorted(DATA.glob("*/*.JPEG"))[: n_batches * size]
    out = []
    for start in range(0, len(files), size):
        chunk = [load_image(f) for f in files[start:start + size]]
        views = torch.stack([torch.stack([loaded.transform(zoom(im, s)) for im in chunk]) for s in scales])
        out.append((views, torch.zeros(len(chunk), dtype=torch.int64), torch.arange(start, start + len(chunk))))
    return out


def run(loaded, data, k: int, scales: int) -> float:
    acc = ProfileAccumulator(loaded.gates, 10, scales, loaded.device)
    tops = TopImages(loaded.gates, k, loaded.device) if k else None
    started = time.perf_counter()
    with profiling_step(loaded, acc, None, tops) as step:
        for views, labels, ids in data:
            step(views, labels, ids)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", nargs="+", default=["se_resnet18_imagenette", "sk_resnet18_imagenette"])
    parser.add_argument("--k", type=int, default=9)
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    configure_cpu_threads()
    print(f"torch threads {torch.get_num_threads()}, {args.batches} batches of {args.batch_size}, "
          f"{args.repeats} interleaved repeats, medians\n")
    print(f"| model | gates | without s | with --top-images {args.k} s | ratio |")
    print("|---|---:|---:|---:|---:|")
    for name in args.model:
        loaded = load_model(name, device="cpu")
        data = batches(loaded, args.batches, args.batch_size, [1.0])
        run(loaded, data[:1], args.k, 1)  # warm-up
        without, with_k = [], []
        for _ in range(args.repeats):
            without.append(run(loaded, data, 0, 1))
            with_k.append(run(loaded, data, args.k, 1))
        a, b = statistics.median(without), statistics.median(with_k)
        print(f"| {name} | {len(loaded.gates)} | {a:.3f} | {b:.3f} | {b / a:.3f} |", flush=True)


if __name__ == "__main__":
    main()
