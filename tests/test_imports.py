"""Every module of the package imports: no missing dependency, no import cycle, no syntax error,
even in modules that no other test happens to import."""
from __future__ import annotations

import importlib
import pkgutil

import pytest

import attnviz

# attnviz.__main__ is left out: importing it runs the command line (`python -m attnviz` does that).
MODULES = sorted(info.name for info in pkgutil.walk_packages(attnviz.__path__, prefix="attnviz.")
                 if not info.name.endswith(".__main__"))


def test_the_walk_finds_the_subpackages():
    assert {"attnviz.cli", "attnviz.gates.se", "attnviz.profiles.builder.runner", "attnviz.app.render", "attnviz.app.pages.explore"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_module_imports(name):
    module = importlib.import_module(name)
    assert module.__name__ == name
