"""The public API (``attnviz.__all__``) the notebooks import from: every name resolves, lazily, to
the object its level module defines, and the notebooks use nothing else from the package root."""
from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import attnviz

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", attnviz.__all__)
def test_a_public_name_is_the_object_of_its_level_module(name):
    module = importlib.import_module(f"attnviz.{attnviz._PUBLIC[name]}")
    assert getattr(attnviz, name) is getattr(module, name)


def test_importing_the_package_loads_no_torch():
    """A light module (the app's language picker) imports attnviz before PyTorch has loaded."""
    out = subprocess.run([sys.executable, "-c", "import sys, attnviz; print('torch' in sys.modules)"],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == "False"


def test_the_notebooks_import_the_package_root_from_its_public_names_only():
    imported = set()
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            for line in "".join(cell["source"]).splitlines():
                match = re.match(r"\s*from attnviz import (.+)", line)
                if match:
                    imported |= {n.strip() for n in match.group(1).split(",")}
    assert imported, "no notebook imports from attnviz"
    assert imported <= set(attnviz.__all__), imported - set(attnviz.__all__)
