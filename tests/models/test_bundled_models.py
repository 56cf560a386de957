"""The bundled models: they load offline, classify as well as their cards say, and their shipped
class profiles are reproduced by recomputing them on a subset of the validation split."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from attnviz.training.evaluate import evaluate_folder
from attnviz.profiles.profile import load_profile
from attnviz.profiles.builder import profile_dataset
from attnviz.models.zoo import bundled_dir, default_model_name, load_model

BUNDLED = {"se_resnet18_imagenette": "se", "sk_resnet18_imagenette": "sk"}
ASSETS = Path(__file__).resolve().parents[2] / "assets"


def _meta(name: str) -> dict:
    return json.loads((ASSETS / "models" / f"{name}.json").read_text())


def test_bundled_models_are_shipped_small_and_default():
    assert bundled_dir() == ASSETS / "models"
    for name in BUNDLED:
        weights = ASSETS / "models" / f"{name}.safetensors"
        assert weights.stat().st_size <= 8 * 1024 * 1024
        assert (ASSETS / "models" / f"{name}.md").exists()
        assert (ASSETS / "profiles" / f"{name}.profile.safetensors").exists()
        assert _meta(name)["evaluation"]["top1"] >= 0.80
    assert default_model_name() == "se_resnet18_imagenette"


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_accuracy_on_a_fixed_val_subset_matches_the_card(name, nette_dir):
    loaded = load_model(name, device="cpu")
    assert loaded.source == "bundled" and [k.name for k in loaded.kinds] == [BUNDLED[name]]
    card = _meta(name)["evaluation"]
    result = evaluate_folder(nette_dir, loaded, batch_size=50, workers=0, limit=200)
    assert result.images == 200
    # A fixed subset of 200 images: its accuracy may sit a few points either side of the card's.
    assert result.top1 >= card["top1"] - 0.06


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_shipped_profile_is_reproduced_on_a_subset(name, nette_dir):
    shipped = load_profile(ASSETS / "profiles" / f"{name}.profile.safetensors")
    meta = _meta(name)
    assert shipped.model == name and list(shipped.class_names) == meta["class_names"]
    assert shipped.counts(0).tolist() == [c["images"] for c in meta["evaluation"]["per_class"]]
    loaded = load_model(name, device="cpu")
    per_class = 8
    subset = profile_dataset(loaded, nette_dir / "val", scales=shipped.scales, batch_size=40, workers=0,
                             per_class_limit=per_class, progress=False)
    assert subset.gate_names == shipped.gate_names
    for si in range(len(shipped.scales)):
        for gate in shipped.gate_names:
            full, sub = shipped.mean(gate, si), subset.mean(gate, si)
            std = shipped.std(gate, si)
            # Each subset mean is a mean of 8 draws from the class's distribution: it must lie
            # within a few standard errors of the full-split mean, channel by channel.
            z = np.abs(sub - full) / (std / np.sqrt(per_class) + 1e-4)
            assert np.mean(z < 4) >= 0.98, (gate, si, float(np.mean(z < 4)))
            assert np.abs(sub.mean(axis=-1) - full.mean(axis=-1)).max() < 0.05
