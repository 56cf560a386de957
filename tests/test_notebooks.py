"""Every notebook runs top to bottom (nbclient, kernel ``python3``, working directory notebooks/).

One test per notebook. A failing cell fails its notebook's test with the cell's source and the
error it raised. The notebooks read ``../shared/data`` (``ATTNVIZ_DATA`` overrides it; the kernel
inherits this process's environment): without the data a notebook's test is skipped, like the rest
of the suite's. They also use the bundled models, which are part of the project: a missing one fails.

The ``python3`` kernel needs no registration step: pip-installing ipykernel (requirements.txt)
puts its kernel spec under ``<sys.prefix>/share/jupyter/kernels/python3``, and jupyter_client
falls back to ipykernel's built-in spec when none is registered; either way the kernel runs with
this interpreter (``sys.executable``).
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
from nbclient.exceptions import CellExecutionError, CellTimeoutError  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
#: The data the notebooks read: ATTNVIZ_DATA, else the test suite's ATTNVIZ_SHARED_DATA, else
#: ../shared/data beside the repository (the notebooks' own default).
DATA = Path(os.environ.get("ATTNVIZ_DATA") or os.environ.get("ATTNVIZ_SHARED_DATA")
            or ROOT.parent / "shared" / "data")
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: Seconds one cell may run (the slowest cells evaluate a few hundred small images on a CPU).
CELL_TIMEOUT = int(os.environ.get("ATTNVIZ_NB_CELL_TIMEOUT", "600"))
#: Bundled models each notebook needs.
NEEDS_MODELS = {
    "01_se_block_from_scratch": ["se_resnet18_imagenette"],
    "02_role_of_excitation": ["se_resnet18_imagenette"],
    "03_selective_kernel_and_scale": ["sk_resnet18_imagenette"],
    "04_split_attention": [],
    "05_attribution": ["se_resnet18_imagenette"],
}


def test_every_notebook_is_listed():
    assert {nb.stem for nb in NOTEBOOKS} == set(NEEDS_MODELS)


def test_notebooks_are_stored_without_outputs():
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        dirty = [i for i, c in enumerate(nb.cells)
                 if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
        assert not dirty, f"{path.name}: cells {dirty} carry outputs; clear them before committing"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, monkeypatch):
    data = DATA
    if not (data / "imagenette-224" / "val").is_dir() or not (data / "imagenet-samples").is_dir():
        pytest.skip(f"{data} does not hold imagenette-224/val and imagenet-samples")
    from attnviz.zoo import bundled_models

    missing = [m for m in NEEDS_MODELS.get(path.stem, []) if m not in bundled_models()]
    assert not missing, f"{path.name} needs the bundled model(s) {missing}, not found in assets/models"

    nb = nbformat.read(path, as_version=4)
    monkeypatch.setenv("ATTNVIZ_DATA", str(data.resolve()))   # the kernel inherits it
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as exc:
        failed = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                       and any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
        where = f"cell {failed}" if failed is not None else "a cell (timed out)"
        message = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))          # no terminal colours
        pytest.fail(f"{path.name}: {where} failed:\n{message}", pytrace=False)
    print(f"{path.name}: {time.perf_counter() - start:.1f} s")
