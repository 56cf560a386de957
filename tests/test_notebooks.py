"""Every notebook runs top to bottom (nbclient, kernel ``python3``, working directory notebooks/).

One test per notebook. A failing cell fails its notebook's test with the cell's source and the
error it raised. Notebooks 02 and 03 must print a verdict line, ``Paper finding reproduced: ...``
or ``Paper finding not reproduced: ...`` with the numbers behind it.

Structure tests (no kernel needed): every code cell is at most ``MAX_CODE_LINES`` lines; notebooks
02 and 03 have code that prints the verdict line from computed values (an f-string); and no markdown
cell states a number computed from the models - results are printed by code, from the data, so
they change when the model or the data change. Markdown may still quote the papers' own figures
(in a sentence that names the paper), cite sections, and name the settings the code uses. The notebooks read ``../shared/data`` (``ATTNVIZ_DATA`` overrides it; the kernel
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
#: The longest code cell allowed, in lines.
MAX_CODE_LINES = 25
#: Notebooks that print a verdict on a paper's finding.
VERDICT_NOTEBOOKS = ["02_role_of_excitation", "03_selective_kernel_and_scale"]
VERDICT_LINE = re.compile(r"^Paper finding (?:not )?reproduced: .*\d", re.M)
#: Bundled models each notebook needs.
NEEDS_MODELS = {
    "01_se_block_from_scratch": ["se_resnet18_imagenette"],
    "02_role_of_excitation": ["se_resnet18_imagenette"],
    "03_selective_kernel_and_scale": ["sk_resnet18_imagenette"],
    "04_split_attention": [],
    "05_attribution": ["se_resnet18_imagenette"],
    "06_channels_models_and_your_network": ["se_resnet18_imagenette", "sk_resnet18_imagenette"],
}


def test_every_notebook_is_listed():
    assert {nb.stem for nb in NOTEBOOKS} == set(NEEDS_MODELS)


def test_notebooks_are_stored_without_outputs():
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        dirty = [i for i, c in enumerate(nb.cells)
                 if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
        assert not dirty, f"{path.name}: cells {dirty} carry outputs; clear them before committing"


def test_code_cells_are_short():
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        long = {i: len(c.source.splitlines()) for i, c in enumerate(nb.cells)
                if c.cell_type == "code" and len(c.source.splitlines()) > MAX_CODE_LINES}
        assert not long, f"{path.name}: code cells longer than {MAX_CODE_LINES} lines (cell: lines): {long}"


def test_verdict_notebooks_print_a_computed_verdict():
    for stem in VERDICT_NOTEBOOKS:
        nb = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
        cells = [c.source for c in nb.cells if c.cell_type == "code"
                 and "Paper finding reproduced: " in c.source and "Paper finding not reproduced: " in c.source]
        assert cells, f"{stem}: no code cell prints 'Paper finding reproduced: ' / 'Paper finding not reproduced: '"
        assert any("print(" in c and re.search(r"\bf\"", c) for c in cells), \
            f"{stem}: the verdict line must be printed with the numbers computed (an f-string)"


#: What markdown may not hold outside math and code spans: a decimal number or a percentage.
_MATH_OR_CODE = re.compile(r"\$\$.*?\$\$|\$[^$\n]*\$|`[^`\n]*`|\]\([^)]*\)", re.S)
_NUMBER = re.compile(r"\d+\.\d+|\d\s*%|\bper ?cent\b", re.I)
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n\s*\n|\n\s*[*>|-]\s")


def markdown_claims(nb) -> list[tuple[int, str]]:
    """(cell, sentence) of markdown sentences with a decimal or a percentage that is neither the
    paper's own figure (the sentence names the paper), a section number, nor a setting of the
    notebook (a decimal written as a literal in one of its code cells, e.g. a zoom factor)."""
    settings = {m for c in nb.cells if c.cell_type == "code" for m in re.findall(r"\d+\.\d+", c.source)}
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for sentence in _SENTENCES.split(_MATH_OR_CODE.sub(" ", cell.source)):
            if re.search(r"\bpaper", sentence, re.I):
                continue
            sentence = re.sub(r"\bSection \d+(\.\d+)*", "", sentence)
            if any(n not in settings for n in _NUMBER.findall(sentence)):
                found.append((i, " ".join(sentence.split()).lstrip("*>|- ")))
    return found


def test_markdown_states_no_computed_numbers():
    for path in NOTEBOOKS:
        claims = markdown_claims(nbformat.read(path, as_version=4))
        assert not claims, (f"{path.name}: markdown states numbers; print results from code instead "
                            f"(cell, sentence): {claims}")


def test_the_markdown_check_catches_a_claim():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("SCALES = (1.0, 2.0)"),
        nbformat.v4.new_markdown_cell("Zoom from 1.0× to 2.0×. The paper reports 3.86 GFLOPs (Section 4.3)."),
        nbformat.v4.new_markdown_cell("Here $s = 0.5$ and `x = 0.7`. Top-1 drops by 1.5 points.\n\n* 12 % change")])
    assert markdown_claims(nb) == [(2, "Top-1 drops by 1.5 points."), (2, "12 % change")]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, monkeypatch):
    data = DATA
    if not (data / "imagenette-224" / "val").is_dir() or not (data / "imagenet-samples").is_dir():
        pytest.skip(f"{data} does not hold imagenette-224/val and imagenet-samples")
    from attnviz.models.zoo import bundled_models

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
    if path.stem in VERDICT_NOTEBOOKS:
        printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
                          if o.get("output_type") == "stream")
        verdicts = VERDICT_LINE.findall(printed)
        assert verdicts, f"{path.name} printed no 'Paper finding (not) reproduced: <numbers>' line"
