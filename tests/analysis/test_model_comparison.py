"""attnviz.analysis.model_comparison against a direct computation with analyse_images, and the charts
built from it."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from attnviz.errors import AttnvizError
from attnviz.analysis.inference import analyse_images
from attnviz.analysis.model_comparison import check_model_names, compare_models, relative_depth
from attnviz.views import models as views
from tiny import CLASS_NAMES, tiny

CLASSES = CLASS_NAMES


def small(arch: str, name: str, seed: int):
    return dataclasses.replace(tiny(arch, size=64, seed=seed), name=name)


@pytest.fixture(scope="module")
def models():
    return [small("se_resnet18_half", "se_a", 0), small("sk_resnet18_half", "sk", 1),
            small("se_resnet18_half", "se_b", 2)]


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 255, (80, 80, 3), dtype=np.uint8)) for _ in range(3)]


@pytest.fixture(scope="module")
def comparison(models, images):
    return compare_models(models, images, ["one", "two", "three"])


def test_top5_per_image_is_analyse_images_top5(models, images, comparison):
    assert comparison.images == ["one", "two", "three"]
    for loaded, summary in zip(models, comparison.models, strict=True):
        direct = analyse_images(loaded, images)
        assert summary.name == loaded.name and summary.gates == len(loaded.gates)
        for i, analysis in enumerate(direct):
            got = summary.top[i]
            assert [t.index for t in got] == [t.index for t in analysis.top(CLASSES, 5)]
            np.testing.assert_allclose([t.prob for t in got], [t.prob for t in analysis.top(CLASSES, 5)],
                                       rtol=1e-5)


def test_stage_means_are_the_compared_value_over_channels_and_images(models, images, comparison):
    for loaded, summary in zip(models, comparison.models, strict=True):
        direct = analyse_images(loaded, images)
        n = len(loaded.gates)
        stages = sorted({g.stage for g in loaded.gates})
        assert [s.stage for s in summary.stages] == stages
        for stat in summary.stages:
            gates = [g for g in loaded.gates if g.stage == stat.stage]
            path = gates[0].kind.compared_path(gates[0].paths)
            per_gate = [np.mean([a.values[g.name][path] for a in direct]) for g in gates]
            assert stat.mean == pytest.approx(np.mean(per_gate), abs=1e-6)
            per_image = [np.mean([a.values[g.name][path].mean() for g in gates]) for a in direct]
            assert stat.std == pytest.approx(np.std(per_image), abs=1e-6)
            assert stat.depth == pytest.approx(np.mean([g.index / (n - 1) for g in gates]))
            assert stat.gates == [g.name for g in gates]
        assert summary.stages[0].depth < summary.stages[-1].depth
        assert [g.depth for g in summary.gate_stats] == [relative_depth(g, n) for g in loaded.gates]
        assert summary.gate_stats[0].depth == 0 and summary.gate_stats[-1].depth == 1
    se, sk = comparison.models[0], comparison.models[1]
    assert {s.value for s in se.stages} == {"s"} and {s.value for s in sk.stages} == {"b"}
    assert se.stages[0].neutral == 1.0 and sk.stages[0].neutral == 0.5


def test_correlation_only_for_same_layout_channel_gate_pairs(models, images, comparison):
    assert list(comparison.correlations) == [("se_a", "se_b")]
    a, b = models[0], models[2]
    da, db = analyse_images(a, images), analyse_images(b, images)
    blocks = comparison.correlations[("se_a", "se_b")]
    assert [c.gate for c in blocks] == [g.name for g in a.gates]
    for block, gate in zip(blocks, a.gates, strict=True):
        sa = np.stack([x.values[gate.name][0] for x in da]).astype(np.float64)
        sb = np.stack([x.values[gate.name][0] for x in db]).astype(np.float64)
        assert block.channels == gate.channels == sa.shape[1]
        assert block.r_mean_image == pytest.approx(np.corrcoef(sa.mean(0), sb.mean(0))[0, 1], abs=1e-6)
        per_image = [np.corrcoef(x, y)[0, 1] for x, y in zip(sa, sb, strict=True)]
        np.testing.assert_allclose(block.r_per_image, per_image, atol=1e-6)
        assert block.r_image_mean == pytest.approx(np.mean(per_image), abs=1e-6)


def test_a_model_compared_with_itself_correlates_perfectly(models, images):
    comparison = compare_models([models[0], models[0]], images[:2])
    [blocks] = comparison.correlations.values()
    assert all(c.r_mean_image == pytest.approx(1.0) for c in blocks)


def test_json_and_charts(comparison):
    doc = comparison.to_json()
    assert [m["name"] for m in doc["models"]] == ["se_a", "sk", "se_b"]
    assert doc["correlations"][0]["models"] == ["se_a", "se_b"]
    assert len(doc["models"][1]["top"]) == 3 and len(doc["models"][1]["top"][0]) == 5
    charts = views.comparison_charts(comparison)
    assert [c.key for c in charts] == ["models_stages", "models_correlation"]
    stages = charts[0].figure
    lines = [t for t in stages.data if t.mode == "lines+markers"]
    assert [t.name.split(" ")[0] for t in lines] == ["se_a", "sk", "se_b"]
    assert list(lines[1].y) == [s.mean for s in comparison.models[1].stages]
    assert "relative depth" in charts[0].caption and "se_a" in charts[0].caption
    assert "Pearson" in charts[1].caption
    top = views.top_chart(comparison.models[0], 1, "two")
    assert "two" in top.caption and len(top.figure.data[0].y) == 5
    assert "of 3 images" in views.agreement(comparison)


def test_json_has_no_nan(comparison):
    import dataclasses
    import json

    blocks = comparison.correlations[("se_a", "se_b")]
    undefined = dataclasses.replace(comparison, correlations={
        ("se_a", "se_b"): [dataclasses.replace(blocks[0], r_mean_image=float("nan"))]})
    text = json.dumps(undefined.to_json(), allow_nan=False)
    assert json.loads(text)["correlations"][0]["blocks"][0]["r_mean_image"] is None


def test_no_correlation_between_se_and_sk(models, images):
    comparison = compare_models(models[:2], images[:1])
    assert comparison.correlations == {}
    assert [c.key for c in views.comparison_charts(comparison)] == ["models_stages"]
    assert "same gate names" in views.correlation_note(comparison)


def test_model_names_are_checked():
    assert check_model_names(["a", " b"]) == ["a", "b"]
    for bad in (["a"], ["a", "b", "c", "d"], ["a", "a"]):
        with pytest.raises(AttnvizError):
            check_model_names(bad)
