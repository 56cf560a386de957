"""Packaging a training run as a bundled model: it loads by name, its card and profile agree."""
from __future__ import annotations

import json

import numpy as np

from attnviz.bundle import mean_attention_difference, package, stage_specificity
from attnviz.profiles import load_profile
from attnviz.train import TrainConfig, train
from attnviz.zoo import bundled_models, default_model_name, load_model


def test_package_a_tiny_sk_run(nette_dir, tmp_path, monkeypatch):
    run = tmp_path / "runs" / "tiny.safetensors"
    train(TrainConfig(data=str(nette_dir), arch="sk_resnet18_half", out=str(run), epochs=1, batch_size=8,
                      train_size=48, eval_size=56, workers=0, limit=16, command="attnviz train test"),
          log=lambda _: None)
    monkeypatch.setenv("ATTNVIZ_ASSETS", str(tmp_path / "assets"))
    meta = package(run, "tiny_sk", "A tiny SK test model.", nette_dir, default=True, scales=(1.0, 2.0),
                   batch_size=8, workers=0, per_class_limit=1, log=lambda _: None)

    assert "tiny_sk" in bundled_models() and default_model_name() == "tiny_sk"
    loaded = load_model("tiny_sk", device="cpu")
    assert loaded.source == "bundled" and loaded.class_names[0] == "tench" and len(loaded.gates) == 8

    card = (tmp_path / "assets" / "models" / "tiny_sk.md").read_text()
    assert "# tiny_sk" in card and "attnviz train test" in card
    assert f"{meta['evaluation']['top1']:.2%}" in card
    profile = load_profile(tmp_path / "assets" / "profiles" / "tiny_sk.profile.safetensors")
    assert profile.scales == [1.0, 2.0] and profile.counts(0).tolist() == [1] * 10
    diffs = meta["analysis"]["mean_attention_difference"]
    assert set(diffs) == {g.name for g in loaded.gates}
    assert diffs == json.loads(json.dumps(mean_attention_difference(profile)))
    assert f"{diffs['SK_2_1']['2']:+.4f}" in card


def test_stage_specificity_of_a_profile(samples_dir):
    from attnviz.architectures import build_architecture
    from attnviz.images import load_image
    from attnviz.profiling import profile_images
    from attnviz.zoo import wrap_model

    loaded = wrap_model(build_architecture("se_resnet18_half", 10), "se", [str(i) for i in range(10)],
                        {"input_size": (3, 64, 64), "interpolation": "bilinear", "crop_pct": 1.0,
                         "mean": (0.5, 0.5, 0.5), "std": (0.25, 0.25, 0.25)})
    files = sorted(samples_dir.glob("*.JPEG"))[:6]
    profile = profile_images(loaded, [load_image(f) for f in files], [0, 0, 0, 1, 1, 1], ["a", "b"])
    spec = stage_specificity(profile)
    assert list(spec) == [2, 3, 4, 5]
    assert all(0.0 <= v <= 1.0 for v in spec.values())
    assert not np.isnan(list(spec.values())).any()
