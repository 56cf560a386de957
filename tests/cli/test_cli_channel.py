"""attnviz channel, inspect --values and report: the top images of a channel, every value of a
gate, and the offline report, from the command line."""
from __future__ import annotations

import json

import pytest

from attnviz.cli import main


@pytest.fixture(scope="module")
def profile_with_top_images(nette_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("profile") / "p.safetensors"
    code = main(["profile", str(nette_dir / "val"), "--model", "test_efficientnet", "--random-weights", "--out", str(out),
                 "--per-class-limit", "2", "--batch-size", "4", "--workers", "0", "--top-images", "3", "--no-progress"])
    assert code == 0
    return out


def test_channel_lists_the_top_and_bottom_images(profile_with_top_images, capsys):
    capsys.readouterr()
    assert main(["channel", str(profile_with_top_images), "--gate", "SE_5_1", "--channel", "2", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed["top"]) == len(listed["bottom"]) == 3
    values = [r["value"] for r in listed["top"]]
    assert values == sorted(values, reverse=True) and values[-1] >= max(r["value"] for r in listed["bottom"])
    assert all(r["image"].count("/") == 1 and not r["image"].startswith("/") for r in listed["top"])
    assert main(["channel", str(profile_with_top_images), "--gate", "SE_5_1", "--channel", "2"]) == 0
    assert "highest values" in capsys.readouterr().out


@pytest.mark.parametrize("args, needle", [(["--gate", "SE_99", "--channel", "0"], "no gate 'SE_99'"),
                                          (["--gate", "SE_5_1", "--channel", "9999"], "choose a channel from 0")])
def test_channel_errors_are_one_line(profile_with_top_images, capsys, args, needle):
    assert main(["channel", str(profile_with_top_images), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err


def test_inspect_values_are_the_full_vectors(goldfish, capsys):
    assert main(["inspect", str(goldfish), "--model", "test_efficientnet", "--random-weights", "--json", "--values"]) == 0
    gate = json.loads(capsys.readouterr().out)["images"][0]["gates"][0]
    assert len(gate["values"]) == gate["paths"] and len(gate["values"][0]) == gate["channels"]
    assert min(gate["values"][0]) == pytest.approx(gate["min"], abs=1e-6)


def test_report_writes_one_offline_file(goldfish, tmp_path):
    out = tmp_path / "report.html"
    assert main(["report", str(goldfish), "--model", "test_efficientnet", "--random-weights", "--out", str(out)]) == 0
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "n01443537_goldfish.JPEG" in page and "Plotly.newPlot" in page


def test_report_in_japanese_for_five_photos_stays_small(samples_dir, tmp_path, capsys):
    """The report in the language asked for (its texts, <html lang>, a CJK font stack), five photos
    as thumbnails; the command's own messages stay English."""
    photos = sorted(samples_dir.iterdir())[:5]
    out = tmp_path / "report.html"
    assert main(["report", *map(str, photos), "--model", "test_efficientnet", "--random-weights", "--lang", "ja",
                 "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert '<html lang="ja"' in page and "励起" in page and "Noto Sans CJK JP" in page
    assert page.count("data:image/jpeg;base64,") == 5
    size = out.stat().st_size
    assert size < 3_500_000, size  # plotly.js packed: 2.0 MB of it
    assert "wrote" in capsys.readouterr().out
