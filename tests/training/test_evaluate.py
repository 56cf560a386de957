"""attnviz.training.evaluate on a tiny ImageFolder whose right answers are known by construction:
solid-colour images and a model that names an image by its colour, so every count is written
here by hand, not taken from an earlier run."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from attnviz.models.zoo import LoadedModel, wrap_model
from attnviz.training.evaluate import ClassAccuracy, Evaluation, evaluate_folder

#: The outputs: the first three are an image's mean red, green and blue (in [0, 1]); the others
#: constants below every colour's, in this order, so the top-5 is always red, green, blue, spare, other.
CLASS_NAMES = ["red", "green", "blue", "spare", "other", "never", "none"]
COLOURS = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255)}
#: Class folder -> the colours of its images (file names sort in this order).
FOLDERS = {
    "blue": ["blue", "blue"],            # top-1 2 of 2
    "green": ["red", "green", "green"],  # top-1 2 of 3 (the red one is called red), top-5 3 of 3
    "never": ["red", "red"],             # "never" is the 6th output: top-1 and top-5 0 of 2
    "other": ["red"],                    # "other" is the 5th output: top-1 0 of 1, top-5 1 of 1
}


class ColourNet(torch.nn.Module):
    """Logits: the mean of each input channel, then the constants -1, -2, -3, -4."""

    num_classes = len(CLASS_NAMES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        colour = x.mean(dim=(2, 3))
        constants = -torch.arange(1, 5, dtype=x.dtype, device=x.device).expand(len(x), 4)
        return torch.cat([colour, constants], dim=1)


@pytest.fixture(scope="module")
def colour_model() -> LoadedModel:
    config = {"input_size": (3, 16, 16), "interpolation": "bilinear", "mean": (0.0, 0.0, 0.0),
              "std": (1.0, 1.0, 1.0), "crop_pct": 1.0, "crop_mode": "center"}
    return wrap_model(ColourNet(), "colour", CLASS_NAMES, data_config=config)


@pytest.fixture(scope="module")
def colour_data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("colours")
    for folder, colours in FOLDERS.items():
        (root / "val" / folder).mkdir(parents=True)
        for i, colour in enumerate(colours):
            Image.new("RGB", (24, 24), COLOURS[colour]).save(root / "val" / folder / f"{i}_{colour}.png")
    return root


def test_evaluation_counts_what_the_model_got_right(colour_model, colour_data):
    result = evaluate_folder(colour_data, colour_model, batch_size=3, workers=0)
    assert isinstance(result, Evaluation)
    assert (result.model, result.data, result.images) == ("colour", str(colour_data / "val"), 8)
    assert result.top1 == pytest.approx(4 / 8)        # blue 2 + green 2
    assert result.top5 == pytest.approx(6 / 8)        # blue 2 + green 3 + other 1
    assert result.per_class == (
        ClassAccuracy("blue", "blue", 2, 1.0),
        ClassAccuracy("green", "green", 3, pytest.approx(2 / 3)),
        ClassAccuracy("never", "never", 2, 0.0),
        ClassAccuracy("other", "other", 1, 0.0),
    )


def test_per_class_limit_takes_the_first_images_of_each_class(colour_model, colour_data):
    result = evaluate_folder(colour_data, colour_model, workers=0, per_class_limit=1)
    assert result.images == 4                         # 0_blue, 0_red (green), 0_red (never), 0_red (other)
    assert [(c.folder, c.images, c.top1) for c in result.per_class] == [
        ("blue", 1, 1.0), ("green", 1, 0.0), ("never", 1, 0.0), ("other", 1, 0.0)]
    assert (result.top1, result.top5) == (pytest.approx(1 / 4), pytest.approx(3 / 4))


def test_to_dict_has_the_keys_of_the_bundled_metadata(colour_model, colour_data):
    doc = evaluate_folder(colour_data, colour_model, workers=0).to_dict()
    assert list(doc) == ["model", "data", "images", "top1", "top5", "per_class"]
    assert doc["per_class"][1] == {"folder": "green", "class": "green", "images": 3, "top1": pytest.approx(2 / 3)}
    assert all(list(c) == ["folder", "class", "images", "top1"] for c in doc["per_class"])
    assert json.loads(json.dumps(doc)) == doc         # JSON as it is


def test_an_evaluation_cannot_be_changed(colour_model, colour_data):
    result = evaluate_folder(colour_data, colour_model, workers=0, limit=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.top1 = 1.0                             # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.per_class[0].images = 0                # type: ignore[misc]
    assert isinstance(result.per_class, tuple)


def test_the_cli_prints_the_old_json(tmp_path):
    """``attnviz evaluate --json`` on a bundled-format random model: the keys as before."""
    from bundled_kit import CLASS_NAMES as TEN, write_bundled

    write_bundled(tmp_path / "assets", "se_resnet18_half", "test_se", size=32)
    data = tmp_path / "data" / "val"
    for name in TEN[:2]:
        (data / name).mkdir(parents=True)
        Image.new("RGB", (40, 40), (90, 120, 30)).save(data / name / "a.png")
    env = {**__import__("os").environ, "ATTNVIZ_ASSETS": str(tmp_path / "assets"), "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-m", "attnviz", "evaluate", str(tmp_path / "data"), "--model", "test_se",
                          "--device", "cpu", "--workers", "0", "--json"],
                         capture_output=True, text=True, check=True, env=env)
    doc = json.loads(out.stdout)
    assert list(doc) == ["model", "data", "images", "top1", "top5", "per_class"]
    assert doc["model"] == "test_se" and doc["images"] == 2 and doc["data"] == str(data)
    assert [(c["folder"], c["class"], c["images"]) for c in doc["per_class"]] == [
        ("English springer", "English springer", 1), ("tench", "tench", 1)]
    assert doc["top1"] in (0.0, 0.5, 1.0) and doc["top5"] >= doc["top1"]
