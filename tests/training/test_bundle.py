"""Packaging a training run as a bundled model: it loads by name, its card and profile agree."""
from __future__ import annotations

import json

import numpy as np
import pytest

from attnviz.training.bundle import attention_analysis, package
from attnviz.profiles.profile import load_profile
from attnviz.training.train import TrainConfig, train
from attnviz.models.zoo import bundled_models, default_model_name, load_model


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
    assert list(profile.scales) == [1.0, 2.0] and profile.counts(0).tolist() == [1] * 10
    diffs = meta["analysis"]["mean_attention_difference"]
    assert set(diffs) == {g.name for g in loaded.gates}
    for gate, by_scale in diffs.items():          # written again: every image counted once, b - a
        for si, scale in enumerate(profile.scales):
            n = profile.counts(si).astype(float)
            means = profile.mean(gate, si)
            expected = float((n[:, None] * (means[:, 1] - means[:, 0])).sum(axis=0).mean() / n.sum())
            assert by_scale[f"{scale:g}"] == pytest.approx(expected, abs=1e-12)
    assert f"{diffs['SK_2_1']['2']:+.4f}" in card
    assert json.loads(json.dumps(meta["analysis"])) == meta["analysis"]


def test_the_card_measures_class_dependence_on_the_compared_path(samples_dir):
    """The card's eta squared of an SK unit is that of b (path 1), the value the Compare page compares,
    and its mean attention difference is b - a over every image, each counted once. Both are written
    again here from each image's own gate values (one forward pass per image, no profile involved);
    the unequal class counts (2, 5, 2) make a forgotten count weighting show."""
    import torch

    from attnviz.models.architectures import build_architecture
    from attnviz.images.loading import load_image
    from attnviz.analysis.inference import forward_with_capture
    from attnviz.profiles.builder import profile_images
    from attnviz.analysis.scale import zoom
    from attnviz.models.zoo import wrap_model

    torch.manual_seed(0)
    loaded = wrap_model(build_architecture("sk_resnet18_half", 10), "sk", [str(i) for i in range(10)],
                        {"input_size": (3, 64, 64), "interpolation": "bilinear", "crop_pct": 1.0,
                         "mean": (0.5, 0.5, 0.5), "std": (0.25, 0.25, 0.25)})
    files = sorted(samples_dir.glob("*.JPEG"))[:9]
    images = [load_image(f) for f in files]
    labels = np.array([0, 0, 1, 1, 1, 1, 1, 2, 2])
    profile = profile_images(loaded, images, labels.tolist(), ["a", "b", "c"], scales=(1.0, 2.0))
    analysis = attention_analysis(profile)
    for si, scale in enumerate((1.0, 2.0)):
        per_image = []
        for img in images:
            _, captured = forward_with_capture(loaded, loaded.transform(zoom(img, scale))[None])
            per_image.append({g: captured[g][0].double().numpy() for g in profile.gate_names})
        for gate in profile.gate_names:
            v = np.stack([values[gate] for values in per_image])             # (images, paths, C)
            mad = float((v[:, 1] - v[:, 0]).mean())                         # every image once
            assert analysis["mean_attention_difference"][gate][f"{scale:g}"] == pytest.approx(mad, rel=1e-4, abs=1e-6)
            # the mean of the three class means would give another number: the test tells them apart
            by_class = np.mean([(v[labels == k, 1] - v[labels == k, 0]).mean() for k in range(3)])
            assert abs(by_class - mad) > 1e-6
            if si:
                continue
            b = v[:, 1]                                                     # (images, C): the compared path
            grand = b.mean(axis=0)
            ssb = sum((labels == k).sum() * (b[labels == k].mean(axis=0) - grand) ** 2 for k in range(3))
            sst = ((b - grand) ** 2).sum(axis=0)
            eta = float(np.mean(ssb / sst))
            assert analysis["class_dependence"][gate]["eta_squared"] == pytest.approx(eta, rel=1e-4)
            assert analysis["class_dependence"][gate]["path"] == 1
            assert analysis["class_dependence"][gate]["verdict"] == "too_few"       # 2 to 5 images per class
