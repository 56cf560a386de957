"""requirements.txt (the app) and requirements-dev.txt (the test tools) declare every third-party
module that the project imports, pinned at the versions that are installed, and pyproject.toml
declares those the package itself needs.

Imports are read statically (ast), so an import inside a function, a ``try`` block or a notebook
cell counts as much as one at the top of a module.
"""
from __future__ import annotations

import ast
import json
import re
import sys
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Import name -> distribution, for modules that are not installed (installed ones are looked up).
ALIASES = {"PIL": "pillow", "cv2": "opencv-python", "sklearn": "scikit-learn", "yaml": "pyyaml",
           "skimage": "scikit-image", "google": "protobuf", "attr": "attrs", "dateutil": "python-dateutil"}


#: The requirement files: the app's, and the test tools' (which includes the app's with ``-r``).
REQUIREMENT_FILES = (ROOT / "requirements.txt", ROOT / "requirements-dev.txt")


def normalise(name: str) -> str:
    """A distribution name as pip compares them (PEP 503): case, '-', '_' and '.' do not matter."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, requirement) of every requirement line; comments, blanks and options such as
    ``-e .`` or ``-r other.txt`` are left out."""
    out = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if text and not text.startswith("-"):
            out.append((number, text))
    return out


def requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9_.-]*", requirement)
    assert match, f"cannot read a distribution name in requirement {requirement!r}"
    return normalise(match.group(0))


def source_files(root: Path) -> list[Path]:
    """The package, the scripts at the root (app.py), the tests, the benchmarks and the notebooks."""
    files = sorted((root / "attnviz").rglob("*.py")) + sorted(root.glob("*.py"))
    files += sorted((root / "tests").rglob("*.py")) + sorted((root / "bench").rglob("*.py"))
    return files + sorted((root / "notebooks").glob("*.ipynb"))


def code_chunks(path: Path) -> list[tuple[str, str]]:
    """(where, Python source) of a .py file, or of each code cell of a notebook (IPython magics
    and shell lines, which start with % or !, are left out)."""
    if path.suffix != ".ipynb":
        return [(str(path), path.read_text(encoding="utf-8"))]
    chunks = []
    cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    for number, cell in enumerate(cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        chunks.append((f"{path} (cell {number})", "\n".join(lines)))
    return chunks


def imported_modules(source: str, where: str) -> set[str]:
    """Top-level names of the absolute imports in ``source`` (relative imports are left out)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        pytest.fail(f"{where} cannot be parsed: {exc}")
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def local_modules(root: Path) -> set[str]:
    """Modules of this repository: the package and the scripts importable from the root, tests/
    (``tiny``, ``bundled_kit``, ``conftest``...), a test level's own modules (pytest puts each test
    file's folder on the path: ``tests/app/test_app.py`` is imported as ``test_app`` beside it) and bench/."""
    local = {p.name for p in root.iterdir() if (p / "__init__.py").is_file()}
    folders = [root, root / "tests", root / "bench", *(p for p in (root / "tests").iterdir() if p.is_dir())]
    for folder in folders:
        local |= {p.stem for p in folder.glob("*.py")}
    return local


def third_party_imports(root: Path, files: list[Path] | None = None) -> dict[str, set[str]]:
    """Third-party top-level module -> files that import it."""
    local = local_modules(root)
    found: dict[str, set[str]] = {}
    for path in files if files is not None else source_files(root):
        for where, source in code_chunks(path):
            for name in imported_modules(source, where):
                if name in sys.stdlib_module_names or name in local:
                    continue
                found.setdefault(name, set()).add(str(path.relative_to(root)))
    return found


def distributions(module: str) -> set[str]:
    """Normalised names of the distributions that provide top-level ``module``."""
    owners = packages_distributions().get(module) or [ALIASES.get(module, module)]
    return {normalise(d) for d in owners}


def undeclared(imports: dict[str, set[str]], declared: set[str]) -> list[str]:
    problems = []
    for module, files in sorted(imports.items()):
        owners = distributions(module)
        if not owners & declared:
            problems.append(f"`import {module}` in {', '.join(sorted(files))}: its distribution "
                            f"({' or '.join(sorted(owners))}) is not declared")
    return problems


def test_requirements_declare_every_imported_module():
    declared = {requirement_name(r) for path in REQUIREMENT_FILES for _, r in requirement_lines(path)}
    imports = third_party_imports(ROOT)
    assert {"torch", "PIL", "scipy"} <= set(imports)  # the scan does see the project's imports
    problems = undeclared(imports, declared)
    assert not problems, "requirements.txt and requirements-dev.txt miss:\n" + "\n".join(problems)


def test_the_app_install_brings_no_test_tools():
    """A user's `pip install -r requirements.txt` installs the app, not pytest, ruff or Playwright."""
    app = {requirement_name(r) for _, r in requirement_lines(ROOT / "requirements.txt")}
    assert not app & {"pytest", "ruff", "playwright", "hypothesis", "nbclient", "ipykernel"}
    dev = (ROOT / "requirements-dev.txt").read_text().splitlines()
    assert "-r requirements.txt" in (line.split("#", 1)[0].strip() for line in dev)


#: Subpackages of the Streamlit app, whose imports the ``app`` extra may declare.
APP_PACKAGES = ("app", "figures", "views")


def test_pyproject_declares_what_the_package_imports():
    """The core's imports are in ``dependencies``; the app's in ``dependencies`` + the ``app`` extra."""
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {requirement_name(r) for r in project.get("dependencies", [])}
    app = core | {requirement_name(r) for r in project.get("optional-dependencies", {}).get("app", [])}
    files = sorted((ROOT / "attnviz").rglob("*.py"))
    in_app = [f for f in files if f.relative_to(ROOT / "attnviz").parts[0] in APP_PACKAGES]
    problems = undeclared(third_party_imports(ROOT, [f for f in files if f not in in_app]), core)
    assert not problems, "pyproject.toml [project] dependencies miss:\n" + "\n".join(problems)
    problems = undeclared(third_party_imports(ROOT, in_app), app)
    assert not problems, "pyproject.toml [project] dependencies and the app extra miss:\n" + "\n".join(problems)


def test_pins_match_the_installed_versions():
    """Every ``name==version`` line of requirements.txt is what is installed (a stale pin fails).

    As pip does, a pin without a local label (``2.14.1``) accepts one (``2.14.1+cu128``)."""
    problems = []
    pins = 0
    for path, (number, requirement) in ((p, r) for p in REQUIREMENT_FILES for r in requirement_lines(p)):
        spec = requirement.split(";", 1)[0].strip()
        if "==" not in spec:
            continue
        pins += 1
        name, pinned = (part.strip() for part in spec.split("==", 1))
        name = re.sub(r"\[.*\]", "", name)
        try:
            installed = version(name)
        except PackageNotFoundError:
            problems.append(f"{path.name} line {number}: {requirement} but {name} is not installed")
            continue
        if (installed if "+" in pinned else installed.split("+", 1)[0]) != pinned:
            problems.append(f"{path.name} line {number}: {requirement} but {name} {installed} is installed")
    assert pins, "requirements.txt pins nothing"
    assert not problems, "requirements.txt pins other versions than the installed ones:\n" + "\n".join(problems)


def test_requirements_install_the_project_itself():
    """The README's `pip install -r requirements.txt` installs attnviz too (editable, with the app)."""
    text = (ROOT / "requirements.txt").read_text().splitlines()
    assert any(line.split("#", 1)[0].strip() in ("-e .[app]", "--editable .[app]") for line in text)
