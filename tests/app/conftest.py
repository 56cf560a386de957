"""The AppTest fixtures shared by tests/app/: the test models' assets folders, the app serving
them, and their saved class profiles. A module that needs other models defines its own ``assets``
(pytest's module fixture overrides these); helpers that are not fixtures are in tests/apptest_kit.py."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from apptest_kit import TIMEOUT
from bundled_kit import app_test, write_test_models


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> Path:
    """An assets folder with a (random-weight) SE and SK model in the bundled format."""
    return write_test_models(tmp_path_factory.mktemp("assets"))


@pytest.fixture
def app(assets, samples_dir, monkeypatch) -> AppTest:
    """The app serving ``assets`` and the sample photos of ../shared (skipped without them)."""
    return app_test(monkeypatch, assets, samples_dir, TIMEOUT)


@pytest.fixture(scope="module")
def se_assets(tmp_path_factory) -> Path:
    """An assets folder with the SE test model only."""
    return write_test_models(tmp_path_factory.mktemp("se_assets"), sk=False)


@pytest.fixture
def clean_clone(se_assets, tmp_path, monkeypatch) -> AppTest:
    """The app as on a laptop: the samples folder and the data root point at an empty folder."""
    empty = tmp_path / "nothing_beside_the_clone"
    empty.mkdir()
    return app_test(monkeypatch, se_assets, empty, TIMEOUT, data_root=False)


@pytest.fixture(scope="module")
def profiles(assets, nette_dir) -> Path:
    """Saved class profiles for the test models, from 2 Imagenette images of 3 classes (the SK
    one at two scales), where the bundled models keep theirs."""
    from attnviz.images.loading import load_image
    from attnviz.models.zoo import load_model
    from attnviz.profiles.builder import profile_images

    val = nette_dir / "val"
    classes = sorted(p.name for p in val.iterdir())[:3]
    files = [(k, f) for k, c in enumerate(classes) for f in sorted((val / c).iterdir())[:2]]
    images = [load_image(f) for _, f in files]
    labels = [k for k, _ in files]
    old = os.environ.get("ATTNVIZ_ASSETS")
    os.environ["ATTNVIZ_ASSETS"] = str(assets)
    try:
        for name, scales in (("test_se", (1.0,)), ("test_sk", (1.0, 1.5))):
            profile = profile_images(load_model(name, device="cpu"), images, labels, classes, scales=scales)
            profile.save(assets / "profiles" / f"{name}.profile.safetensors")
    finally:
        if old is None:
            os.environ.pop("ATTNVIZ_ASSETS")
        else:
            os.environ["ATTNVIZ_ASSETS"] = old
    return assets / "profiles"
