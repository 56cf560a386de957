"""`attnviz compare-models`: the top-1 table, the per-stage table, JSON, exit codes and one-line
errors, on the bundled models (or two small ones in the bundled format when they are missing)."""
from __future__ import annotations

import json

import pytest

from attnviz.cli import main
from attnviz.models.zoo import bundled_models
from bundled_kit import write_comparison_models


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    return write_comparison_models(tmp_path_factory.mktemp("assets"))


@pytest.fixture
def bundled(assets, monkeypatch):
    monkeypatch.setenv("ATTNVIZ_ASSETS", str(assets))
    return "test_se,test_sk"


def test_text_prints_top1_per_image_and_the_stage_table(bundled, samples_dir, capsys):
    tench, goldfish = samples_dir / "n01440764_tench.JPEG", samples_dir / "n01443537_goldfish.JPEG"
    assert main(["compare-models", str(tench), str(goldfish), "--models", bundled, "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("models test_se (bundled, 8 se gates), test_sk (bundled, 8 sk gates)")
    header = next(line for line in lines if line.startswith("image"))
    assert "test_se" in header and "test_sk" in header
    assert any(str(tench) in line and "%" in line for line in lines)
    stage_rows = [line.split() for line in lines if line.startswith(("test_se ", "test_sk "))]
    assert len(stage_rows) == 8  # 4 stages per model
    assert [r[2] for r in stage_rows[:4]] == ["2", "3", "4", "5"] and {r[5] for r in stage_rows[:4]} == {"s"}
    assert {r[5] for r in stage_rows[4:]} == {"b"}
    assert "Pearson" not in out  # SE and SK: no channel-wise correlation


def test_json_with_a_refused_image_exits_1(bundled, goldfish, tmp_path, capsys):  # noqa: ARG001  fixture: writes the bundles the CLI reads
    bad = tmp_path / "notes.txt"
    bad.write_text("not an image")
    code = main(["compare-models", str(goldfish), str(bad), "--models", "test_se,test_sk,test_se2",
                 "--device", "cpu", "--json"])
    captured = capsys.readouterr()
    assert code == 1
    doc = json.loads(captured.out)
    assert doc["images"] == [str(goldfish)] and doc["device"] == "CPU"
    assert [m["name"] for m in doc["models"]] == ["test_se", "test_sk", "test_se2"]
    se = doc["models"][0]
    assert len(se["top"][0]) == 5 and se["source"] == "bundled"
    assert [s["stage"] for s in se["stages"]] == [2, 3, 4, 5]
    assert se["stages"][0]["depth"] == pytest.approx(1 / 14)  # gates 0 and 1 of 8
    [pair] = doc["correlations"]
    assert pair["models"] == ["test_se", "test_se2"] and len(pair["blocks"]) == 8
    assert -1 <= pair["blocks"][0]["r_mean_image"] <= 1
    assert doc["refused"][0]["file"] == str(bad) and "text file" in doc["refused"][0]["error"]
    assert "notes.txt" in captured.err


def test_a_bundled_model_beside_a_random_timm_one(bundled, goldfish, capsys):  # noqa: ARG001  fixture: writes the bundles the CLI reads
    assert main(["compare-models", str(goldfish), "--models", "test_sk,seresnet18", "--random-weights",
                 "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "seresnet18 (random, 8 se gates)" in out


@pytest.mark.parametrize("models, words", [("test_se", "compare 2 or 3 models"),
                                           ("test_se,test_se", "named twice"),
                                           ("test_se,seresnet5", "unknown model")])
def test_model_errors_exit_2_with_one_line(bundled, goldfish, capsys, models, words):  # noqa: ARG001  fixture: writes the bundles the CLI reads
    assert main(["compare-models", str(goldfish), "--models", models, "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("attnviz: ") and words in err and "\n" not in err


def test_usage_errors_exit_2():
    with pytest.raises(SystemExit) as info:
        main(["compare-models"])
    assert info.value.code == 2


def test_default_models_are_the_shipped_ones(goldfish, capsys):
    if not {"se_resnet18_imagenette", "sk_resnet18_imagenette"} <= set(bundled_models()):
        pytest.skip("the bundled models are not in assets/")
    assert main(["compare-models", str(goldfish), "--device", "cpu"]) == 0
    assert "se_resnet18_imagenette" in capsys.readouterr().out
