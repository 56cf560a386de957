"""The CLI and the profiler with files that once escaped the decoder: each is refused by name (or
decoded, where only its EXIF was damaged) and the other files go on; exit code 1 as for any
partial failure, never a traceback."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from attnviz.cli import main
from attnviz.profiles.builder.datasets import ProfileImages
from bundled_kit import write_bundled
from hostile import escapes

ESCAPES = Path(__file__).resolve().parents[1] / "escapes"


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("assets")
    write_bundled(folder, "se_resnet18_half", "test_se", default=True)
    return folder


@pytest.fixture
def files(tmp_path, goldfish) -> list[Path]:
    paths = [goldfish]
    for name, data in sorted(escapes().items()):
        paths.append(tmp_path / name)
        paths[-1].write_bytes(data)
    return paths + sorted(ESCAPES.iterdir())


def test_inspect_refuses_the_bad_files_by_name_and_goes_on(assets, files, monkeypatch, capsys):
    monkeypatch.setenv("ATTNVIZ_ASSETS", str(assets))
    code = main(["inspect", *map(str, files), "--model", "test_se", "--device", "cpu", "--json"])
    captured = capsys.readouterr()
    assert code == 1  # the CLI's convention: some files were refused, the others processed
    rows = {Path(r["file"]).name: r for r in json.loads(captured.out)["images"]}
    assert list(rows) == [p.name for p in files]
    assert rows[files[0].name]["ok"] and len(rows[files[0].name]["top5"]) == 5
    for name in ("dds_named.jpg", "dds_from_dds.jpg"):
        assert not rows[name]["ok"] and "DDS images are not supported" in rows[name]["error"]
        assert name in rows[name]["error"] and name in captured.err
    assert rows["exif_rational_as_bytes.jpg"]["ok"]  # damaged EXIF, readable picture
    assert "Traceback" not in captured.err


def test_inspect_in_a_shell_prints_refused_lines_and_no_traceback(assets, files):
    env = dict(os.environ, ATTNVIZ_ASSETS=str(assets), OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-m", "attnviz", "inspect", str(files[0]), str(files[1]), str(files[2]),
                           "--model", "test_se", "--device", "cpu"], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 1
    assert f"REFUSED {files[1]}: AVIF images are not supported" in done.stdout
    assert f"REFUSED {files[2]}: DDS images are not supported" in done.stdout
    assert "Top" not in done.stderr and "Traceback" not in done.stderr + done.stdout


def test_the_profiler_lists_the_bad_files_and_reads_the_rest(files):
    dataset = ProfileImages([(p, 0) for p in files], lambda _im: torch.zeros(3, 8, 8))
    items = [dataset[i] for i in range(len(dataset))]
    assert "views" in items[0]
    by_name = {Path(p).name: item for (p, _), item in zip(dataset.samples, items, strict=True)}
    assert "DDS images are not supported" in by_name["dds_named.jpg"]["error"]
    assert all("views" in item or item["error"] for item in items)
