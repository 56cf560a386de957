"""Models in the bundled format (assets/models/<name>.json + .safetensors) with seeded random
weights, written to a temporary assets folder, so app tests run the app's real bundled-model
path quickly and without depending on the trained files."""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save_file
from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

from attnviz.models.architectures import build_architecture

CLASS_NAMES = ["tench", "English springer", "cassette player", "chain saw", "church",
               "French horn", "garbage truck", "gas pump", "golf ball", "parachute"]


def write_bundled(assets: Path, arch: str, name: str, default: bool = False, size: int = 96,
                  seed: int = 0) -> Path:
    """Write ``assets/models/<name>.json`` and ``.safetensors`` for a random ``arch``."""
    torch.manual_seed(seed)
    model = build_architecture(arch, len(CLASS_NAMES))
    for module in model.modules():  # random BN scales so that every gate matters (see tiny.py)
        if isinstance(module, torch.nn.BatchNorm2d):
            torch.nn.init.uniform_(module.weight, 0.5, 1.5)
            torch.nn.init.uniform_(module.bias, -0.2, 0.2)
    folder = assets / "models"
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(folder / f"{name}.safetensors"))
    meta = {"name": name, "arch": arch, "num_classes": len(CLASS_NAMES), "class_names": CLASS_NAMES,
            "default": default, "description": f"test model ({arch}, random weights)",
            "preprocessing": {"input_size": [3, size, size], "interpolation": "bilinear",
                              "mean": list(IMAGENET_DEFAULT_MEAN), "std": list(IMAGENET_DEFAULT_STD),
                              "crop_pct": 1.0, "crop_mode": "center"}}
    (folder / f"{name}.json").write_text(json.dumps(meta))
    return folder / f"{name}.json"


def write_comparison_models(assets: Path) -> Path:
    """An SE model (the default), an SK model and a second SE model of the same layout, for
    comparing models (the two SE models qualify for channel-wise correlation)."""
    write_bundled(assets, "se_resnet18_half", "test_se", default=True)
    write_bundled(assets, "sk_resnet18_half", "test_sk", seed=1)
    write_bundled(assets, "se_resnet18_half", "test_se2", seed=2)
    return assets


# ---------------------------------------------------------------- the app under Streamlit's AppTest

APP = Path(__file__).resolve().parent.parent / "app.py"


def write_test_models(assets: Path, sk: bool = True) -> Path:
    """The app tests' assets folder: the random SE model ``test_se`` (the default) and, with
    ``sk``, the random SK model ``test_sk``."""
    write_bundled(assets, "se_resnet18_half", "test_se", default=True)
    if sk:
        write_bundled(assets, "sk_resnet18_half", "test_sk")
    return assets


def write_profiled_se(assets: Path, val_dir: Path) -> Path:
    """``test_se`` alone and its class profile with 2 top images per channel, from 2 images per
    class of ``val_dir`` (Explore's channel view then has its class-mix chart)."""
    import os

    from attnviz.profiles.builder import profile_dataset
    from attnviz.models.zoo import load_model

    write_test_models(assets, sk=False)
    old = os.environ.get("ATTNVIZ_ASSETS")
    os.environ["ATTNVIZ_ASSETS"] = str(assets)
    try:
        profile_dataset(load_model("test_se", device="cpu"), val_dir,
                        assets / "profiles" / "test_se.profile.safetensors", per_class_limit=2, batch_size=8,
                        workers=0, progress=False, top_images=2)
    finally:
        os.environ.pop("ATTNVIZ_ASSETS") if old is None else os.environ.__setitem__("ATTNVIZ_ASSETS", old)
    return assets


def app_test(monkeypatch, assets: Path, samples: Path, timeout: float = 120, data_root: bool = True):
    """The app (``app.py``) under Streamlit's ``AppTest``, not yet run, serving the models of
    ``assets`` and the sample photos of ``samples``; ``data_root=False`` unsets
    ``ATTNVIZ_DATA_ROOT`` (the app as on a laptop, no data folder beside it)."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("ATTNVIZ_ASSETS", str(assets))
    monkeypatch.setenv("ATTNVIZ_SAMPLES", str(samples))
    if not data_root:
        monkeypatch.delenv("ATTNVIZ_DATA_ROOT", raising=False)
    return AppTest.from_file(str(APP), default_timeout=timeout)
