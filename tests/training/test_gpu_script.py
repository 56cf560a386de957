"""The two prepared GPU commands run end to end on the CPU with tiny settings, so they cannot rot
before a session is lent a GPU: bench/gpu/run.sh writes every figure, bench/gpu/train.sh writes
weights that the bundled-model loader and ``attnviz evaluate`` accept."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from imagenette_kit import WNIDS, image_folder

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def run(script: str, out: Path, **settings: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OUT": str(out), "PYTHON": sys.executable, "OMP_NUM_THREADS": "1", **settings}
    return subprocess.run(["bash", str(ROOT / "bench" / "gpu" / script)], env=env, capture_output=True,
                          text=True, timeout=560)


def test_run_sh_writes_the_log_the_pytest_output_and_every_figure(tmp_path, samples_dir):
    done = run("run.sh", tmp_path, GPU_DEVICE="cpu", GPU_MODELS="seresnet18", GPU_AMPS="off", GPU_BATCH="2",
               GPU_REPS="1", GPU_SIZE="64", GPU_PROFILE_MODELS="seresnet18", GPU_PROFILE_BATCH="2",
               GPU_PROFILE_BATCHES="1", GPU_PROFILE_IMAGES="2", GPU_WORKERS="0", GPU_REPEATS="1",
               GPU_APP_MODELS="seresnet18", GPU_APP_RUNS="1", GPU_SAMPLES=str(samples_dir), GPU_PYTEST_S="300")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert {"run.log", "pytest.txt", "pytest.xml", "figures.json"} <= {p.name for p in tmp_path.iterdir()}
    log = (tmp_path / "run.log").read_text()
    assert "== pytest -m gpu" in log and "== figures" in log and "figures exit status 0" in log
    doc = json.loads((tmp_path / "figures.json").read_text())
    assert {"device", "torch", "timm", "goals", "settings", "pytest", "capture_overhead", "profile_throughput",
            "app_latency"} <= set(doc)
    assert doc["device"].startswith("CPU") and doc["settings"]["GPU_DEVICE"] == "cpu"
    # Without CUDA every gpu test is skipped, none fails, and they were collected (not zero).
    assert doc["pytest"]["failures"] == doc["pytest"]["errors"] == 0
    assert doc["pytest"]["tests"] == doc["pytest"]["skipped"] > 20
    [capture] = doc["capture_overhead"]
    assert {"model", "amp", "batch", "plain_ms", "capture_ms", "ratio", "goal"} <= set(capture)
    assert capture["ratio"] == pytest.approx(capture["capture_ms"] / capture["plain_ms"])
    assert [r["mode"] for r in doc["profile_throughput"]] == ["cached", "end-to-end"]
    for row in doc["profile_throughput"]:
        assert {"plain_images_per_s", "profile_images_per_s", "ratio", "gpu_utilisation_percent", "goal"} <= set(row)
        assert row["ratio"] == pytest.approx(row["profile_images_per_s"] / row["plain_images_per_s"])
    [app] = doc["app_latency"]
    assert {"decode", "forward", "figures", "serialise", "total", "charts"} <= set(app) and app["charts"] > 0


def test_train_sh_writes_weights_the_loader_and_evaluate_accept(tmp_path, monkeypatch):
    from attnviz.training.bundle import package
    from attnviz.training.evaluate import evaluate_folder
    from attnviz.training.train_gpu import pack_folder
    from attnviz.models.zoo import bundled_models, load_model

    data = image_folder(tmp_path / "nette" / "train", per_class=4)
    image_folder(tmp_path / "nette" / "val", per_class=2, seed=1)
    pack_folder(data, tmp_path / "train.npz", size=40, extra_info={"val_images": 4})
    out = tmp_path / "out"
    archs = "se_resnet18_5of8,sk_resnet26_5of8"
    done = run("train.sh", out, TRAIN_DATA=str(tmp_path / "train.npz"), TRAIN_DEVICE="cpu", TRAIN_BATCH="4",
               TRAIN_SIZE="32", TRAIN_EVAL_SIZE="40", TRAIN_MAX_STEPS="1", TRAIN_SECONDS="120", TRAIN_ARCHS=archs)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    names = [f"{a}_imagenette" for a in archs.split(",")]
    assert {"train.log", "cards.json", *(f"{n}.safetensors" for n in names)} == {p.name for p in out.iterdir()}
    assert all((out / f"{n}.safetensors").stat().st_size <= 16 * 2**20 for n in names)
    cards = json.loads((out / "cards.json").read_text())
    assert list(cards) == names
    for name in names:
        training = cards[name]["training"]
        assert training["steps"] == 1 and training["train_images"] == 8 and training["val_images"] == 4
        assert cards[name]["class_folders"] == WNIDS and cards[name]["class_names"] == ["tench", "parachute"]

    subprocess.run([sys.executable, str(ROOT / "bench" / "gpu" / "train.py"), "--cards", str(out)], check=True,
                   capture_output=True)
    monkeypatch.setenv("ATTNVIZ_ASSETS", str(tmp_path / "assets"))
    for name in names:
        # What a session does with the weights that come back: attnviz bundle (evaluate, profile, card).
        meta = package(out / f"{name}.safetensors", name, "test run", tmp_path / "nette", scales=(1.0, 1.5),
                       batch_size=4, workers=0, device="cpu", log=lambda _: None)
        assert meta["evaluation"]["images"] == 4 and meta["training"]["hardware"].startswith("CPU")
        assert (tmp_path / "assets" / "models" / f"{name}.md").is_file()
    assert set(bundled_models()) == set(names)
    for name in names:
        loaded = load_model(name, device="cpu")
        assert loaded.source == "bundled" and loaded.input_size == 40 and len(loaded.gates) == 8
        result = evaluate_folder(tmp_path / "nette", loaded, workers=0)
        assert result.images == 4 and 0.0 <= result.top1 <= 1.0
