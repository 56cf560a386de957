"""wrap_model: any nn.Module becomes a LoadedModel that the analyses accept."""
from __future__ import annotations

import pytest
import torch
from PIL import Image

from attnviz.models.architectures import build_architecture
from attnviz.errors import ModelLoadError
from attnviz.analysis.inference import analyse_images
from attnviz.models.zoo import wrap_model


def test_wrap_model_discovers_gates_and_preprocesses():
    model = build_architecture("se_resnet18_half", 10)
    model.train()
    names = [f"c{i}" for i in range(10)]
    loaded = wrap_model(model, "tiny-se", names, data_config={
        "input_size": (3, 64, 64), "interpolation": "bicubic", "mean": (0.5, 0.5, 0.5),
        "std": (0.25, 0.25, 0.25), "crop_pct": 1.0, "crop_mode": "center"})
    assert loaded.source == "custom" and loaded.name == "tiny-se"
    assert not loaded.model.training  # wrapped models are put in eval mode
    assert loaded.class_names == names
    assert [g.name for g in loaded.gates][:2] == ["SE_2_1", "SE_2_2"] and len(loaded.gates) == 8
    batch = loaded.preprocess([Image.new("RGB", (100, 80), (128, 128, 128))])
    assert batch.shape == (1, 3, 64, 64)
    # mid-grey 128/255 normalised with mean 0.5, std 0.25 is ~0.0078
    assert torch.allclose(batch, torch.full_like(batch, (128 / 255 - 0.5) / 0.25), atol=1e-4)
    [analysis] = analyse_images(loaded, [Image.new("RGB", (64, 64), (200, 30, 30))])
    assert analysis.probs.shape == (10,) and abs(analysis.probs.sum() - 1) < 1e-5


def test_wrap_model_default_data_config_is_timms():
    loaded = wrap_model(build_architecture("sk_resnet18_half", 10), "tiny-sk", [str(i) for i in range(10)])
    assert loaded.input_size == 224 and [k.name for k in loaded.kinds] == ["sk"]


def test_wrap_model_refuses_wrong_number_of_class_names():
    with pytest.raises(ModelLoadError, match="3 class names .* 10 classes"):
        wrap_model(build_architecture("se_resnet18_half", 10), "bad", ["a", "b", "c"])
