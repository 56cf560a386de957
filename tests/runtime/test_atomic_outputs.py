"""Outputs written whole or not at all: an interrupt during the write (KeyboardInterrupt raised
midway through the bytes, as Ctrl-C would) leaves the old file intact and no partial file. The
issue's case: Ctrl-C during ``attnviz profile --csv`` left a truncated CSV beside a complete
profile, 5 times of 5."""

from __future__ import annotations

import builtins
import dataclasses
import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from attnviz.runtime import atomic
from attnviz.profiles.profile import load_profile
from attnviz.profiles.builder import profile_images


def interrupt_writes(monkeypatch, after_bytes: int):
    """Every file opened for writing from now on raises KeyboardInterrupt once ``after_bytes``
    bytes were written to it (the bytes before that do reach the file)."""
    real_open = builtins.open

    def opening(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        if not any(m in mode for m in "wax"):
            return handle
        real_write = handle.write
        written = [0]

        def write(data):
            room = after_bytes - written[0]
            if len(data) > room:
                real_write(data[:max(room, 0)])
                handle.flush()
                raise KeyboardInterrupt
            written[0] += len(data)
            return real_write(data)
        handle.write = write
        return handle
    monkeypatch.setattr(builtins, "open", opening)
    monkeypatch.setattr(io, "open", opening)    # pathlib's write_text opens through io.open


@pytest.fixture(scope="module")
def profile(sk_model):
    images = [Image.new("RGB", (64, 64), (40 * i, 90, 200 - 30 * i)) for i in range(3)]
    return profile_images(sk_model, images, [0, 1, 1], ["cat", "dog"])


def test_an_interrupted_csv_leaves_the_old_one_whole(profile, tmp_path, monkeypatch):
    table = tmp_path / "p.csv"
    table.write_text("the old table\n")
    interrupt_writes(monkeypatch, after_bytes=500)   # the table is larger: it is cut midway
    with pytest.raises(KeyboardInterrupt):
        profile.write_csv(table)
    monkeypatch.undo()
    assert table.read_text() == "the old table\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.csv"]   # no truncated temporary left
    profile.write_csv(table)
    rows = table.read_text().splitlines()
    assert rows[0] == "scale,class,gate,kind,path,channel,count,mean,std"
    assert len(rows) == 1 + sum(1 for _ in profile.to_rows())


def test_an_interrupted_profile_leaves_the_old_one_whole(profile, tmp_path, monkeypatch):
    out = tmp_path / "p.safetensors"
    profile.save(out)
    before = out.read_bytes()
    # Profiles are immutable (shared by sessions): the second save is of a changed copy.
    changed = dataclasses.replace(profile, count=np.zeros_like(profile.count))
    # safetensors writes from Rust, not through Python's open: interrupt the rename's input instead
    real_replace = os.replace

    def replace(src, dst):  # noqa: ARG001  stands in for os.replace(src, dst)
        Path(src).write_bytes(Path(src).read_bytes()[:100])   # a half-written file...
        raise KeyboardInterrupt                               # ...and Ctrl-C before the rename
    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        changed.save(out)
    monkeypatch.setattr(os, "replace", real_replace)
    assert out.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["p.safetensors"]
    np.testing.assert_array_equal(load_profile(out).count, profile.count)
    assert profile.count.any()   # the old file differs from the interrupted one's content


def test_an_interrupted_report_leaves_the_old_one_whole(tmp_path, monkeypatch):
    page = tmp_path / "report.html"
    page.write_text("<p>old</p>")
    interrupt_writes(monkeypatch, after_bytes=1000)
    with pytest.raises(KeyboardInterrupt):
        atomic.write_text(page, "<p>" + "new " * 10_000 + "</p>")
    monkeypatch.undo()
    assert page.read_text() == "<p>old</p>" and [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_a_completed_write_replaces_and_keeps_the_mode(tmp_path):
    page = tmp_path / "r.html"
    page.write_text("old")
    page.chmod(0o640)
    atomic.write_text(page, "new")
    assert page.read_text() == "new" and page.stat().st_mode & 0o777 == 0o640
    fresh = tmp_path / "sub" / "n.txt"
    atomic.write_text(fresh, "x")
    mask = os.umask(0)
    os.umask(mask)
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~mask


def test_every_cli_output_goes_through_the_helper():
    """The CLI's writers (profile, CSV, report, checkpoint, weights, cards) have no write in place."""
    root = Path(__file__).resolve().parents[2] / "attnviz"
    for name in ("cli/__init__.py", "profiles/builder/runner.py", "training/train.py", "profiles/profile.py", "training/bundle.py"):
        text = (root / name).read_text()
        for needle in (".write_text(", 'open(path, "w"'):
            assert needle not in text.replace("atomic.write_text(", ""), f"{name} writes in place: {needle}"
        assert "save_file(tensors, str(path)" not in text and "save_file(weights, str(out))" not in text
