"""Shared fixtures. Data comes from ../shared/data (read-only, never copied into the project)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("ATTNVIZ_SHARED_DATA", ROOT.parent / "shared" / "data"))
SAMPLES = SHARED / "imagenet-samples"
NETTE = SHARED / "imagenette-224"

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return path


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return need(SAMPLES)


@pytest.fixture(scope="session")
def nette_dir() -> Path:
    return need(NETTE)


@pytest.fixture(scope="session")
def goldfish(samples_dir) -> Path:
    return samples_dir / "n01443537_goldfish.JPEG"


@pytest.fixture(scope="module")
def sk_model():
    """A tiny SK network (random weights, 64 px), for tests of what is computed around a model."""
    from tiny import tiny

    return tiny("sk_resnet18_half", size=64)


@pytest.fixture(scope="module")
def photos(samples_dir):
    """Two sample photos decoded as the app decodes uploads (tench, goldfish)."""
    from attnviz.serving.inputs import decode, read_files

    files = [samples_dir / "n01440764_tench.JPEG", samples_dir / "n01443537_goldfish.JPEG"]
    return [decode(item) for item in read_files(files)]
