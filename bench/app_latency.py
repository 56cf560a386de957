"""App latency: time from an upload to all charts of page 1 ("Explore an image"), server side.

For each run a photo the process has never seen arrives as bytes, and the app's own path runs:
sha256 of the bytes, decoding, a forward pass with capture through the analysis cache (a miss,
as for any new upload), every page-1 figure (top-5 and the attention charts the model's kinds
call for) and its JSON serialisation, which is what ``st.plotly_chart`` sends to the browser.
The model is already loaded (the app loads it once per process). Drawing in the browser is not
included: ``tests/app/test_browser.py`` prints the end-to-end time in a real browser.

Targets on CPU: a bundled model <= 1.5 s, the ``seresnet50`` architecture <= 3 s.

    python bench/app_latency.py                       # bundled SE model (or its architecture), seresnet50
    python bench/app_latency.py --models sk_resnet18_imagenette seresnet50 --runs 15
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import torch

from attnviz.models.architectures import build_architecture
from attnviz.runtime.devices import configure_cpu_threads
from attnviz.images.loading import list_image_files
from attnviz.serving.analyses import AnalysisCache
from attnviz.serving.inputs import ImageInput, decode
from attnviz.serving.models import ModelRequest, ServedModel
from attnviz.views.explore import explore_charts, prediction_chart
from attnviz.models.zoo import LoadedModel, bundled_models, load_model, wrap_model

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT.parent / "shared" / "data" / "imagenet-samples"
TARGETS = {"bundled": 1.5, "timm": 3.0}
BUNDLED_STAND_IN = {"se_resnet18_imagenette": "se_resnet18_half", "sk_resnet18_imagenette": "sk_resnet18_half"}


def get_model(name: str, device: str) -> tuple[LoadedModel, str]:
    """The model and which target applies; a bundled name that is not trained yet is stood in
    for by its architecture with random weights, at the bundled input size (128 px)."""
    if name in bundled_models():
        return load_model(name, device=device), "bundled"
    if name in BUNDLED_STAND_IN:
        model = build_architecture(BUNDLED_STAND_IN[name], 10)
        config = {"input_size": (3, 128, 128), "interpolation": "bicubic", "mean": (0.485, 0.456, 0.406),
                  "std": (0.229, 0.224, 0.225), "crop_pct": 0.875, "crop_mode": "center"}
        loaded = wrap_model(model, f"{name} (architecture, random weights)", [f"class {i}" for i in range(10)],
                            config, device)
        return loaded, "bundled"
    return load_model(name, device=device, pretrained=False), "timm"


def upload_to_charts(loaded: LoadedModel, cache: AnalysisCache, name: str, data: bytes) -> dict:
    """One upload through page 1; returns the time of each stage in seconds."""
    t0 = time.perf_counter()
    decoded = decode(ImageInput(name, data))                     # sha256 + decode
    t1 = time.perf_counter()
    [analysis] = cache.analyse(ServedModel(ModelRequest("bench"), loaded), [decoded])  # preprocess + forward + capture
    if loaded.device.type == "cuda":
        torch.cuda.synchronize()
    t2 = time.perf_counter()
    charts = [prediction_chart(loaded, analysis)] + explore_charts(loaded, [analysis])
    t3 = time.perf_counter()
    sent = sum(len(chart.figure.to_json()) for chart in charts)  # what st.plotly_chart serialises
    t4 = time.perf_counter()
    return {"decode": t1 - t0, "forward": t2 - t1, "figures": t3 - t2, "serialise": t4 - t3,
            "total": t4 - t0, "charts": len(charts), "bytes": sent}


def measure(name: str, photos: list[Path], runs: int, warmup: int, device: str) -> dict:
    loaded, kind = get_model(name, device)
    cache = AnalysisCache(max_entries=4 * (runs + warmup))
    results = []
    for i in range(warmup + runs):
        photo = photos[i % len(photos)]
        # Fresh bytes every run (a new upload), even when the sample list wraps around.
        data = photo.read_bytes() + f"#{i}".encode() * (i >= len(photos))
        timing = upload_to_charts(loaded, cache, photo.name, data)
        if i >= warmup:
            results.append(timing)
    median = {k: statistics.median(r[k] for r in results) for k in ("decode", "forward", "figures", "serialise", "total")}
    return {"model": loaded.name, "kind": kind, "device": loaded.device_label, "input": loaded.input_size,
            "charts": results[0]["charts"], "kb": results[0]["bytes"] / 1024, "runs": runs,
            "max": max(r["total"] for r in results), **median, "target": TARGETS[kind]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["se_resnet18_imagenette", "seresnet50"])
    parser.add_argument("--samples", default=os.environ.get("ATTNVIZ_SAMPLES", str(SAMPLES)))
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads (0: what the app picks, attnviz.runtime.devices.configure_cpu_threads)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    else:
        configure_cpu_threads()
    photos = list_image_files(args.samples)
    if not photos:
        raise SystemExit(f"no sample photos in {args.samples}; pass --samples FOLDER")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"torch threads {torch.get_num_threads()}, load average {load:.1f}, {args.runs} runs "
          f"(+{args.warmup} warm-up), medians in seconds\n")
    print("| model | device | input | charts | decode | forward | figures | serialise | total (max) "
          "| target | total / target |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in args.models:
        r = measure(name, photos, args.runs, args.warmup, args.device)
        print(f"| {r['model']} | {r['device']} | {r['input']} | {r['charts']} | {r['decode']:.3f} | "
              f"{r['forward']:.3f} | {r['figures']:.3f} | {r['serialise']:.3f} | {r['total']:.3f} "
              f"({r['max']:.3f}) | {r['target']:.1f} | {r['total'] / r['target']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
