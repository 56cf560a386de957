"""The import paths from before the level packages (attnviz/_moved.py) still work, as the same
module objects, and the package root holds only the levels."""
from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import attnviz
from attnviz._moved import MOVED

PACKAGE = Path(attnviz.__file__).resolve().parent


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_path_is_the_module_at_its_new_path(old):
    new = MOVED[old]
    target = PACKAGE.joinpath(*new.split(".")[1:])
    assert target.with_suffix(".py").is_file() or (target / "__init__.py").is_file(), new
    assert importlib.import_module(old) is importlib.import_module(new)


def test_names_under_an_old_package_and_from_imports_resolve_to_the_new_modules():
    from attnviz.profiling.runner import profile_dataset  # the old spelling, on purpose
    from attnviz.zoo import load_model

    import attnviz.models.zoo
    import attnviz.profiles.builder.runner

    assert profile_dataset is attnviz.profiles.builder.runner.profile_dataset
    assert load_model is attnviz.models.zoo.load_model
    assert sys.modules["attnviz.profiling.runner"] is attnviz.profiles.builder.runner


def test_an_old_path_in_a_fresh_interpreter_loads_each_file_once():
    """Loading a module twice (old name and new) would give two copies of its classes."""
    code = ("import sys, attnviz.zoo.loading, attnviz.models.zoo.loading as new; "
            "assert sys.modules['attnviz.zoo.loading'] is new; "
            "print(sorted({m.__file__ for n, m in sys.modules.items() if n.endswith('zoo.loading')}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=PACKAGE.parent).stdout
    assert out.count("loading.py") == 1, out


def test_a_name_that_never_existed_is_still_not_found():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("attnviz.no_such_module")
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("attnviz.zoo.no_such_module")


def test_the_package_root_holds_levels_not_modules():
    """Only the entry points and the two cross-cutting modules (errors, the old-path finder) are
    files at the root; everything else is in a level package."""
    files = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert files == ["__init__.py", "__main__.py", "_moved.py", "errors.py"]


def test_an_old_module_path_does_not_hide_the_public_function_of_the_same_name():
    """attnviz.walkthrough was a module and is now the public function; importing the old path
    still gives the module (as sys.modules holds it), the package attribute stays the function."""
    code = ("import sys, attnviz, attnviz.walkthrough; "
            "from attnviz.analysis.walkthrough import walkthrough; "
            "assert attnviz.walkthrough is walkthrough, attnviz.walkthrough; "
            "assert sys.modules['attnviz.walkthrough'] is sys.modules['attnviz.analysis.walkthrough']")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=PACKAGE.parent)
