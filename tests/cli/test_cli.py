"""The attnviz command line: JSON shape, exit codes, one-line errors without tracebacks."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from attnviz.cli import main


def test_models_json(capsys):
    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_name = {r["name"]: r for r in rows}
    assert by_name["seresnet50"]["gates"] == 16 and by_name["seresnet50"]["kinds"] == ["se"]
    assert by_name["skresnet18"]["kinds"] == ["sk"] and by_name["skresnet18"]["params"] > 10e6
    assert by_name["resnest50d"]["kinds"] == ["splat"]
    assert {r["weights"] for r in rows} <= {"bundled", "cached", "download"}


def test_models_table(capsys):
    assert main(["models", "--no-probe"]) == 0
    out = capsys.readouterr().out
    assert "legacy_seresnet50" in out and "weights" in out.splitlines()[0]


def test_inspect_json_reports_good_and_bad_images(goldfish, tmp_path, capsys):
    bad = tmp_path / "notes.txt"
    bad.write_text("not an image")
    code = main(["inspect", str(goldfish), str(bad), "--model", "skresnet18", "--random-weights",
                 "--device", "cpu", "--json"])
    captured = capsys.readouterr()
    assert code == 1
    doc = json.loads(captured.out)
    assert doc["model"] == "skresnet18" and doc["device"] == "CPU"
    good, refused = doc["images"]
    assert good["ok"] and good["file"] == str(goldfish)
    assert len(good["top5"]) == 5 and set(good["top5"][0]) == {"index", "label", "prob"}
    assert len(good["gates"]) == 8
    gate = good["gates"][0]
    assert gate["name"] == "SK_2_1" and gate["kind"] == "sk" and gate["paths"] == 2
    assert abs(gate["mean_a"] + gate["mean_b"] - 1) < 1e-5
    assert refused == {"file": str(bad), "ok": False, "error": refused["error"]}
    assert "notes.txt" in refused["error"] and "text file" in refused["error"]
    assert "notes.txt" in captured.err


def test_inspect_text_se(goldfish, capsys):
    assert main(["inspect", str(goldfish), "--model", "seresnet50", "--random-weights", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "SE_2_1" in out and "SE_5_3" in out and "std" in out


def test_inspect_text_sk_lists_each_units_path_means_and_difference(goldfish, capsys):
    args = [str(goldfish), "--model", "skresnet18", "--random-weights", "--device", "cpu"]
    torch.manual_seed(0)                       # the same random weights in both runs
    assert main(["inspect", *args, "--json", "--values"]) == 0
    [image] = json.loads(capsys.readouterr().out)["images"]
    torch.manual_seed(0)
    assert main(["inspect", *args]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(line for line in lines if line.startswith("gate"))
    assert header.split() == ["gate", "kind", "C", "mean_a", "mean_b", "b-a"]
    for gate in image["gates"]:
        a, b = np.asarray(gate["values"][0]), np.asarray(gate["values"][1])   # from the raw values
        row = next(line.split() for line in lines if line.startswith(gate["name"] + " "))
        assert row[:3] == [gate["name"], "sk", str(gate["channels"])]
        assert [float(x) for x in row[3:]] == pytest.approx([a.mean(), b.mean(), (b - a).mean()], abs=6e-4)


def test_model_errors_exit_2_with_one_line(goldfish, capsys):
    assert main(["inspect", str(goldfish), "--model", "seresnet5"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("attnviz: unknown model") and "\n" not in err


def test_usage_errors_exit_2():
    with pytest.raises(SystemExit) as info:
        main(["inspect"])
    assert info.value.code == 2


def test_offline_pretrained_failure_has_no_traceback(goldfish, tmp_path):
    env = {"HF_HUB_CACHE": str(tmp_path / "hub"), "TORCH_HOME": str(tmp_path / "torch"),
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "attnviz", "inspect", str(goldfish), "--model", "seresnet50"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("attnviz:")]
    assert len(lines) == 1 and "seresnet50" in lines[0] and "--weights" in lines[0]


# ---------------------------------------------------------------- profile: unreadable images


def _image_folder(root, good: dict[str, int], bad: dict[str, bytes]):
    """An ImageFolder ``root/<class>/<file>``: ``good`` maps a class to its number of small PNGs,
    ``bad`` maps '<class>/<file>' to the bytes of a file that is no image."""
    from PIL import Image

    for k, (cls, n) in enumerate(good.items()):
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            Image.new("RGB", (40, 32), (40 * k, 30 * i, 200)).save(root / cls / f"{i}.png")
    for name, data in bad.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def _profile_args(data, out, *extra: str) -> list[str]:
    return ["profile", str(data), "--model", "test_efficientnet", "--random-weights", "--device", "cpu",
            "--out", str(out), "--batch-size", "4", "--workers", "0", "--no-progress", *extra]


def test_profile_of_only_unreadable_files_fails_and_writes_nothing(tmp_path, capsys):
    data = _image_folder(tmp_path / "data", {}, {"cats/notes.jpg": b"not a photo\n", "dogs/empty.png": b""})
    results = tmp_path / "results"
    code = main(_profile_args(data, results / "p.safetensors", "--csv", str(results / "p.csv")))
    captured = capsys.readouterr()
    assert code == 2
    assert not results.exists() or not any(results.iterdir())  # no profile, no CSV, no leftovers
    err = captured.err.strip()
    assert err.startswith("attnviz: no image of") and "could be read (2 of 2 skipped" in err
    assert "no profile was written" in err and "Traceback" not in err
    assert "profiled" not in captured.out


def test_profile_of_only_unreadable_files_leaves_no_checkpoint(tmp_path, capsys):
    """With a checkpoint after every batch, the run that profiled nothing removes its checkpoint too."""
    data = _image_folder(tmp_path / "data", {}, {"cats/notes.jpg": b"not a photo\n"})
    results = tmp_path / "results"
    assert main(_profile_args(data, results / "p.safetensors", "--checkpoint-every", "1")) == 2
    assert not results.exists() or sorted(p.name for p in results.iterdir()) == []
    capsys.readouterr()


def test_profile_with_some_unreadable_files_exits_1_and_says_how_many(tmp_path, capsys):
    data = _image_folder(tmp_path / "data", {"cats": 2, "dogs": 3}, {"cats/notes.jpg": b"not a photo\n"})
    out, table = tmp_path / "p.safetensors", tmp_path / "p.csv"
    code = main(_profile_args(data, out, "--csv", str(table)))
    captured = capsys.readouterr()
    assert code == 1
    assert "profiled 5 images of 2 classes" in captured.out
    summary = [line for line in captured.err.splitlines() if line.startswith("attnviz:")]
    assert summary == ["attnviz: skipped 1 unreadable file of 6; the profile counts the other 5:"]
    assert "cats/notes.jpg: " in captured.err
    from attnviz import load_profile

    profile = load_profile(out)
    assert profile.counts().tolist() == [2, 3] and [s["file"] for s in profile.skipped] == ["cats/notes.jpg"]
    assert table.read_text().startswith("scale,class,gate,kind,path,channel,count,mean,std\n")


def test_profile_of_readable_files_exits_0(tmp_path, capsys):
    data = _image_folder(tmp_path / "data", {"cats": 1, "dogs": 1}, {})
    assert main(_profile_args(data, tmp_path / "p.safetensors")) == 0
    captured = capsys.readouterr()
    assert "profiled 2 images" in captured.out and captured.err == ""


# ---------------------------------------------------------------- fetch-imagenette

#: The address torchvision's datasets.Imagenette downloads the 160px archive from (its documented table).
IMAGENETTE_160_URL = "https://s3.amazonaws.com/fast-ai-imageclas/imagenette2-160.tgz"


def _imagenette_copy(root, files: dict[str, dict[str, int]]):
    """A local Imagenette in the layout torchvision unpacks its archive to (imagenette2-160/{train,val}/
    <wnid>/*.JPEG, beside the archive's noisy_imagenette.csv), with small real JPEGs."""
    from PIL import Image

    top = root / "imagenette2-160"
    for split, classes in files.items():
        for wnid, n in classes.items():
            (top / split / wnid).mkdir(parents=True)
            for i in range(n):
                Image.new("RGB", (20, 16), (40 * i, 90, 160)).save(top / split / wnid / f"{wnid}_{i:05d}.JPEG")
    (top / "noisy_imagenette.csv").write_text("path,noisy_labels_0,is_valid\n", encoding="utf-8")
    return top


def test_fetch_imagenette_uses_a_local_copy_and_makes_it_the_samples_and_the_data_root(tmp_path, capsys, monkeypatch):
    """No download: torchvision finds its own layout in --root (and there is no network here, so a
    download would fail). The sample folder and the data root it reports are what the app reads."""
    from attnviz.serving.dataroot import DataRoot
    from attnviz.serving.samples import sample_photos

    root = tmp_path / "data"
    _imagenette_copy(root, {"train": {"n01440764": 2, "n03028079": 1}, "val": {"n01440764": 2, "n03028079": 1}})
    assert main(["fetch-imagenette", "--root", str(root), "--size", "160px"]) == 0
    out = capsys.readouterr().out
    assert "3 training and 3 validation photos of 2 classes" in out
    samples = root / "attnviz-samples"
    # the first val photo of each class, named for the samples folder's labels
    assert sorted(p.name for p in samples.iterdir()) == ["n01440764_tench.JPEG", "n03028079_church.JPEG"]
    assert (samples / "n01440764_tench.JPEG").read_bytes() == \
        (root / "imagenette2-160/val/n01440764/n01440764_00000.JPEG").read_bytes()
    env = dict(line.split("=", 1) for line in (root / "attnviz.env").read_text().splitlines() if "=" in line
               and not line.startswith("#"))
    assert env == {"ATTNVIZ_SAMPLES": str(samples.resolve()), "ATTNVIZ_DATA_ROOT": str(root.resolve())}
    assert f"ATTNVIZ_SAMPLES={samples.resolve()}" in out and f"ATTNVIZ_DATA_ROOT={root.resolve()}" in out
    # with those settings the app offers the photos by class and the splits as class folders
    monkeypatch.setenv("ATTNVIZ_SAMPLES", env["ATTNVIZ_SAMPLES"])
    assert sorted(sample_photos(tmp_path).values()) == ["church", "tench"]
    data_root = DataRoot(env["ATTNVIZ_DATA_ROOT"])
    assert "imagenette2-160/train" in data_root.class_folders() and "imagenette2-160/val" in data_root.class_folders()
    # the bundled class profiles name their photos under imagenette-224/val: that is the download's val
    from pathlib import Path

    from attnviz.profiles.profile import load_profile

    shipped = sorted((Path(__file__).resolve().parents[2] / "assets" / "profiles").glob("*.profile.safetensors"))
    assert shipped and {load_profile(f).data for f in shipped} == {"imagenette-224/val"}
    assert data_root.resolve("imagenette-224/val") == (root / "imagenette2-160" / "val").resolve()
    assert data_root.resolve("imagenette-224/val/n01440764/n01440764_00001.JPEG").is_file()


def test_fetch_imagenette_offline_names_the_address_and_what_to_do(tmp_path):
    """A real download attempt into an empty folder, through a proxy that refuses every connection
    (so the test never downloads, even on a machine that is online): one line, no traceback."""
    import os

    env = {**os.environ, "https_proxy": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
           "no_proxy": "", "NO_PROXY": ""}
    empty = tmp_path / "empty"
    done = subprocess.run([sys.executable, "-m", "attnviz", "fetch-imagenette", "--root", str(empty)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    message = done.stderr.strip()
    assert message.startswith("attnviz: could not download Imagenette (160px) from " + IMAGENETTE_160_URL)
    assert "internet connection" in message and f"put the file in {empty.resolve()}" in message
    assert len(message.splitlines()) == 1
    assert not (empty / "attnviz.env").exists()


def test_fetch_imagenette_without_download_refuses_an_empty_folder(tmp_path, capsys):
    assert main(["fetch-imagenette", "--root", str(tmp_path), "--no-download"]) == 2
    err = capsys.readouterr().err
    assert f"no Imagenette (160px) in {tmp_path.resolve()}" in err and "without --no-download" in err
    assert IMAGENETTE_160_URL in err
