"""The figures of bench/gpu/run.sh, measured in one process and written as one JSON file.

Each figure is measured by the benchmark script that owns it (bench/capture_overhead.py,
bench/profile_throughput.py, bench/app_latency.py); this file only chooses the settings, from
environment variables so that tests/training/test_gpu_script.py can run it on a CPU with tiny ones:

    GPU_DEVICE=cuda  GPU_MODELS="seresnet50 skresnext50_32x4d resnest50d"  GPU_AMPS="off bf16"
    GPU_BATCH=64  GPU_REPS=15                     capture overhead (goal <= 1.05)
    GPU_PROFILE_MODELS=seresnet50  GPU_PROFILE_BATCH=256  GPU_PROFILE_BATCHES=8
    GPU_PROFILE_IMAGES=2048  GPU_WORKERS=12  GPU_REPEATS=3  GPU_SIZE=   (input side; empty = the model's)
                                                  profile vs plain inference (goal >= 0.9)
    GPU_APP_MODELS="<the default bundled model> seresnet50"  GPU_APP_RUNS=10   one image through the app
    GPU_SAMPLES=<photo folder>

    python bench/gpu/figures.py OUT/figures.json [--pytest-xml OUT/pytest.xml]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

BENCH = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BENCH))

import torch  # noqa: E402

import app_latency  # noqa: E402
import capture_overhead  # noqa: E402
import profile_throughput  # noqa: E402

GOALS = {"capture_overhead_max_ratio": 1.05, "profile_min_ratio": 0.9}


def env(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def env_int(name: str, default: int) -> int:
    return int(env(name, str(default)))


class Utilisation:
    """Mean GPU utilisation (percent, NVML through torch.cuda.utilization) while it is open."""

    def __init__(self, device: torch.device) -> None:
        self.device, self.samples, self._stop = device, [], threading.Event()

    def __enter__(self) -> Utilisation:
        if self.device.type == "cuda":
            try:
                torch.cuda.utilization(self.device)
            except Exception:  # no NVML: the figure is then left out (None)
                return self
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.samples.append(torch.cuda.utilization(self.device))

    def __exit__(self, *exc) -> None:
        self._stop.set()

    @property
    def mean(self) -> float | None:
        return round(sum(self.samples) / len(self.samples), 1) if self.samples else None


def capture_figures(device: str) -> list[dict]:
    rows = []
    size = env("GPU_SIZE", "")
    for amp in env("GPU_AMPS", "off bf16").split():
        for name in env("GPU_MODELS", "seresnet50 skresnext50_32x4d resnest50d").split():
            r = capture_overhead.measure(name, env_int("GPU_BATCH", 64), env_int("GPU_REPS", 15), device, amp,
                                         int(size) if size else None)
            rows.append({**r, "amp": amp, "goal": GOALS["capture_overhead_max_ratio"]})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def profile_figures(device: str) -> list[dict]:
    from attnviz.profiles.builder.datasets import image_folder
    from attnviz.models.zoo import load_model

    args = SimpleNamespace(batch_size=env_int("GPU_PROFILE_BATCH", 256), batches=env_int("GPU_PROFILE_BATCHES", 8),
                           repeats=env_int("GPU_REPEATS", 3), workers=env_int("GPU_WORKERS", 12))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        images = env_int("GPU_PROFILE_IMAGES", args.batch_size * args.batches)
        data = image_folder(profile_throughput.synthetic_folder(Path(tmp), images))
        data.samples = sorted(data.samples, key=lambda s: (s[0].name, s[1]))
        for amp in env("GPU_AMPS", "off bf16").split():
            for name in env("GPU_PROFILE_MODELS", "seresnet50").split():
                torch.manual_seed(0)
                loaded = load_model(name, pretrained=False, device=device, amp=amp)
                for mode, fn in (("cached", profile_throughput.cached), ("end-to-end", profile_throughput.end_to_end)):
                    with Utilisation(loaded.device) as util:
                        r = fn(loaded, data, args)
                    rows.append({"model": name, "device": loaded.device_label, "amp": amp, "mode": mode,
                                 "batch": args.batch_size, "workers": args.workers, "images": r["images"],
                                 "plain_images_per_s": r["plain"], "profile_images_per_s": r["profile"],
                                 "ratio": r["profile"] / r["plain"], "gpu_utilisation_percent": util.mean,
                                 "goal": GOALS["profile_min_ratio"]})
                    print(json.dumps(rows[-1]), flush=True)
    return rows


def app_figures(device: str) -> list[dict]:
    from attnviz.images.loading import list_image_files
    from attnviz.models.zoo import default_model_name

    samples = env("GPU_SAMPLES", str(app_latency.SAMPLES))
    photos = list_image_files(samples)
    if not photos:
        raise SystemExit(f"no photos in {samples}; set GPU_SAMPLES to a folder of photos")
    default = default_model_name() or "se_resnet18_imagenette"
    rows = []
    for name in env("GPU_APP_MODELS", f"{default} seresnet50").split():
        r = app_latency.measure(name, photos, env_int("GPU_APP_RUNS", 10), 2, device)
        rows.append({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def pytest_summary(xml: Path | None) -> dict | None:
    """Counts from pytest's JUnit XML (None when pytest did not run)."""
    if not xml or not xml.is_file():
        return None
    suites = ET.parse(xml).getroot()
    suite = suites if suites.tag == "testsuite" else suites.find("testsuite")
    counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    failed = [f"{c.get('classname')}::{c.get('name')}" for c in suite.iter("testcase")
              if c.find("failure") is not None or c.find("error") is not None]
    return {**counts, "passed": counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"],
            "failed_tests": failed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", help="the JSON file to write")
    parser.add_argument("--pytest-xml", help="pytest's --junitxml file, summarised into the JSON")
    args = parser.parse_args()
    device = env("GPU_DEVICE", "cuda")
    dev = torch.device(device)
    import timm

    doc: dict = {
        "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"CPU ({platform.machine()})",
        "torch": torch.__version__, "timm": timm.__version__, "python": platform.python_version(),
        "cpu_cores": os.cpu_count(), "goals": GOALS,
        "settings": {k: v for k, v in os.environ.items() if k.startswith("GPU_")},
        "pytest": pytest_summary(Path(args.pytest_xml) if args.pytest_xml else None),
    }
    out = Path(args.out)
    for key, fn in (("capture_overhead", capture_figures), ("profile_throughput", profile_figures),
                    ("app_latency", app_figures)):
        start = time.perf_counter()
        try:
            doc[key] = fn(device)
        except Exception as exc:  # one figure failing must not lose the others
            doc[key] = {"error": f"{type(exc).__name__}: {exc}"}
            print(f"{key} failed: {exc!r}", file=sys.stderr, flush=True)
        doc[f"{key}_seconds"] = round(time.perf_counter() - start, 1)
        out.write_text(json.dumps(doc, indent=1))  # written after each part: a timeout keeps the rest
    return 0 if all(isinstance(doc[k], list) for k in ("capture_overhead", "profile_throughput", "app_latency")) else 1


if __name__ == "__main__":
    sys.exit(main())
