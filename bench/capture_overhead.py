"""Capture overhead: forward pass with AttentionCapture vs the plain forward pass, same batch.

Runs are interleaved (plain, capture, plain, capture, ...) so that machine noise hits both alike,
and the ratio of the medians is reported. Target: <= 1.03 on CPU.

    python bench/capture_overhead.py --models seresnet50 skresnet18 --batch 8 --reps 15
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from attnviz.capture.attention import AttentionCapture
from attnviz.models.zoo import load_model


def _time(fn, sync) -> float:
    sync()
    t0 = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - t0


def measure(name: str, batch: int, reps: int, device: str, amp: str, size: int | None) -> dict:
    loaded = load_model(name, pretrained=False, device=device, amp=amp)
    side = size or loaded.input_size
    x = loaded.to_device(torch.randn(batch, 3, side, side))
    sync = torch.cuda.synchronize if loaded.device.type == "cuda" else (lambda: None)

    def plain():
        with torch.inference_mode(), loaded.autocast():
            loaded.model(x)

    def captured():
        with torch.inference_mode(), AttentionCapture(loaded.model, loaded.gates) as cap, loaded.autocast():
            loaded.model(x)
        cap.result()  # includes the float32 conversion, values stay on the device

    for _ in range(2):  # warm-up (allocator, oneDNN / cuDNN algorithm choice)
        plain(), captured()
    t_plain, t_capture = [], []
    for _ in range(reps):
        t_plain.append(_time(plain, sync))
        t_capture.append(_time(captured, sync))
    p, c = statistics.median(t_plain), statistics.median(t_capture)
    return {"model": name, "device": loaded.device_label, "batch": batch, "size": side, "gates": len(loaded.gates),
            "plain_ms": p * 1e3, "capture_ms": c * 1e3, "ratio": c / p}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["seresnet50", "skresnet18", "resnest50d"])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--amp", default="off")
    parser.add_argument("--size", type=int, default=None, help="input side (default: the model's)")
    args = parser.parse_args()
    print(f"{'model':<20} {'device':<24} {'batch':>5} {'gates':>5} {'plain ms':>9} {'capture ms':>10} {'ratio':>6}")
    for name in args.models:
        r = measure(name, args.batch, args.reps, args.device, args.amp, args.size)
        print(f"{r['model']:<20} {r['device']:<24} {r['batch']:>5} {r['gates']:>5} {r['plain_ms']:>9.1f} "
              f"{r['capture_ms']:>10.1f} {r['ratio']:>6.3f}")


if __name__ == "__main__":
    main()
