"""Packaging: the library and the CLI need neither Streamlit nor plotly, which come with the
``app`` extra (``pip install attnviz[app]``)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP_ONLY = {"streamlit", "plotly"}
#: Subpackages that draw or serve the app (plotly, Streamlit); every other module is the core.
APP_PACKAGES = ("attnviz.app", "attnviz.figures", "attnviz.views")


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9][A-Za-z0-9_.-]*", requirement).group(0)).lower()


def _loaded_app_modules(imports: str) -> list[str]:
    """Modules of Streamlit or plotly in ``sys.modules`` after ``imports`` in a fresh interpreter."""
    code = (f"import sys\n{imports}\n"
            f"print(__import__('json').dumps(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(APP_ONLY)})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_cli_imports_neither_streamlit_nor_plotly():
    assert _loaded_app_modules("import attnviz, attnviz.cli") == []


def test_the_core_imports_neither_streamlit_nor_plotly():
    """Every module outside the app's subpackages, including those the CLI's commands import."""
    import pkgutil

    import attnviz

    core = [m.name for m in pkgutil.walk_packages(attnviz.__path__, prefix="attnviz.")
            if not m.name.endswith(".__main__") and not m.name.startswith(tuple(p + "." for p in APP_PACKAGES))
            and m.name not in APP_PACKAGES]
    assert {"attnviz.models.zoo.loading", "attnviz.profiles.builder.runner", "attnviz.training.bundle"} <= set(core)
    assert _loaded_app_modules("\n".join(f"import {m}" for m in core)) == []


def test_streamlit_and_plotly_are_only_in_the_app_extra():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {_name(r) for r in project["dependencies"]}
    extras = {extra: {_name(r) for r in reqs} for extra, reqs in project.get("optional-dependencies", {}).items()}
    assert not core & APP_ONLY, "the core dependencies must not need the app's libraries"
    assert extras.get("app", set()) >= APP_ONLY
    assert all(not names & APP_ONLY for extra, names in extras.items() if extra != "app")
    assert {"torch", "timm", "safetensors"} <= core


def test_requirements_install_the_app():
    """The README's `pip install -r requirements.txt` installs attnviz with its app (editable)."""
    lines = [line.split("#", 1)[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    assert "-e .[app]" in lines


def test_every_package_is_listed_and_the_wheel_carries_the_bundled_models(tmp_path):
    """pyproject lists the packages explicitly (to map assets/ to attnviz._assets): the list must
    match the tree, and a built wheel must hold the bundled models, so that a plain install works
    offline."""
    tomllib = pytest.importorskip("tomllib")
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    tree = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "attnviz").rglob("__init__.py")
            if "__pycache__" not in p.parts}
    assert listed == tree | {"attnviz._assets"}
    import shutil
    import zipfile

    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", "build", "*.egg-info", "__pycache__", "runs",
                                                                 ".pytest_cache", "bench"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                           "-w", str(tmp_path / "dist"), str(source)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    [wheel] = (tmp_path / "dist").glob("attnviz-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"attnviz/_assets/models/{p.name}" for p in (ROOT / "assets" / "models").iterdir()}
    assert shipped and shipped <= names
    catalogues = {f"attnviz/{p.relative_to(ROOT / 'attnviz').as_posix()}" for p in (ROOT / "attnviz" / "locale").rglob("*.po")}
    assert len(catalogues) == 2 and catalogues <= names
