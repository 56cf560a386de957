"""Live page: analysed frames per second and latency, the camera simulated at its real rate.

A camera thread delivers 640×480 frames at 30 fps for ``--seconds`` (sample photos, each zooming
in over time, so every frame differs), each one as the page receives it: a decoded ``yuv420p``
``av.VideoFrame`` converted to RGB, through ``LiveStream.on_frame`` (the latest-frame-wins slot,
the overlay of the latest reading) and back to an ``av.VideoFrame``. The stream's analyser
thread reads the newest frame with the model (the capture of every page) as fast as it can.

Reported per model and input size: analysed frames per second; frames skipped (dropped, never
queued); the callback's time per frame (what the video pays); the model's time per frame; and the
latency from a frame's arrival to the first returned frame that carries its values, median and
90th percentile. Not included: the browser's camera, the VP8 encoding and the network, which
the WebRTC connection adds on top (tests/app/test_browser_live.py runs that path, but times nothing).

Goal on the 2-core CPU: >= 10 analysed fps at 144 px with the bundled models.

    OMP_NUM_THREADS=1 python bench/live_fps.py                      # both bundled models at 144 px
    python bench/live_fps.py --models sk_resnet18_imagenette --sizes 128 144 224 --seconds 20
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import threading
import time
from pathlib import Path

import av
import numpy as np
from PIL import Image

from attnviz.runtime.devices import configure_cpu_threads
from attnviz.images.loading import list_image_files
from attnviz.live import LiveStream
from attnviz.analysis.scale import zoom
from attnviz.models.zoo import LoadedModel, load_model

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT.parent / "shared" / "data" / "imagenet-samples"
WIDTH, HEIGHT, CAMERA_FPS = 640, 480, 30


def at_size(loaded: LoadedModel, size: int) -> LoadedModel:
    """The same model with its preprocessing at ``size`` px (the transform is rebuilt)."""
    config = {**loaded.data_config, "input_size": (3, size, size)}
    return dataclasses.replace(loaded, data_config=config)


def camera_frames(count: int = 90) -> list[av.VideoFrame]:
    """``count`` distinct yuv420p frames: sample photos, each zoomed in step by step."""
    files = list_image_files(SAMPLES)[:6] if SAMPLES.is_dir() else []
    photos = [Image.open(f).convert("RGB").resize((WIDTH, HEIGHT)) for f in files] or [
        Image.fromarray(np.random.default_rng(0).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8))]
    frames = []
    for i in range(count):
        photo = photos[(i * len(photos)) // count]
        rgb = np.asarray(zoom(photo, 1.0 + (i % 15) / 15))
        frames.append(av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p"))
    return frames


def run(loaded: LoadedModel, gate: str, frames: list[av.VideoFrame], seconds: float) -> dict:
    stream = LiveStream(loaded, gate, idle_timeout=600).start()
    callback_s: list[float] = []
    stop = threading.Event()

    def camera() -> None:
        period, start, n = 1.0 / CAMERA_FPS, time.perf_counter(), 0
        while not stop.is_set():
            frame = frames[n % len(frames)]
            t0 = time.perf_counter()
            out = stream.on_frame(frame.to_ndarray(format="rgb24"))      # as LiveProcessor.recv
            av.VideoFrame.from_ndarray(out, format="rgb24")
            callback_s.append(time.perf_counter() - t0)
            n += 1
            time.sleep(max(0.0, start + n * period - time.perf_counter()))

    # warm up (first forward passes allocate), then measure
    thread = threading.Thread(target=camera, daemon=True)
    thread.start()
    while stream.analysed < 5:
        time.sleep(0.05)
    analysed0, received0, dropped0 = stream.analysed, stream.received, stream.dropped
    stream.latencies.clear()
    callback_s.clear()
    t0 = time.perf_counter()
    time.sleep(seconds)
    elapsed = time.perf_counter() - t0
    analysed, received, dropped = stream.analysed - analysed0, stream.received - received0, stream.dropped - dropped0
    latencies = sorted(stream.latencies)
    stop.set()
    thread.join()
    stream.close()
    return dict(fps=analysed / elapsed, camera_fps=received / elapsed, skipped=dropped / max(received, 1),
                callback_ms=1000 * statistics.median(callback_s),
                latency_ms=1000 * statistics.median(latencies),
                latency_p90_ms=1000 * latencies[int(0.9 * (len(latencies) - 1))],
                model_ms=1000 * model_time(loaded, gate, frames))


def model_time(loaded: LoadedModel, gate: str, frames: list[av.VideoFrame], n: int = 20) -> float:
    from attnviz.live import read_frame

    rgb = [f.to_ndarray(format="rgb24") for f in frames[:n]]
    t0 = time.perf_counter()
    for frame in rgb:
        read_frame(loaded, frame, gate)
    return (time.perf_counter() - t0) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["se_resnet18_imagenette", "sk_resnet18_imagenette"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[144])
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    configure_cpu_threads()
    import torch

    frames = camera_frames()
    print(f"torch threads {torch.get_num_threads()}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
          f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| model | input | analysed fps | camera fps | skipped | callback ms | model ms | latency ms (median / p90) |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.models:
        base = load_model(name)
        gate = base.gates[-1].name
        for size in args.sizes:
            r = run(at_size(base, size), gate, frames, args.seconds)
            print(f"| {name} | {size} px | {r['fps']:.1f} | {r['camera_fps']:.1f} | {r['skipped']:.0%} | "
                  f"{r['callback_ms']:.1f} | {r['model_ms']:.1f} | {r['latency_ms']:.0f} / {r['latency_p90_ms']:.0f} |",
                  flush=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
