"""Discovery and naming of gates in every zoo architecture (random weights, no download)."""
from __future__ import annotations

import numpy as np
import pytest
import timm
import torch

from attnviz.models.architectures import ARCHITECTURES, build_architecture
from attnviz.gates import discover_gates
from attnviz.gates.naming import paper_names, stage_block
from attnviz.models.zoo import TIMM_ZOO

from zoo_gates import EXPECTED  # shared with the capture tests


def test_every_zoo_model_has_an_expectation():
    assert set(TIMM_ZOO) <= set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_gate_count_kind_and_names(name):
    kind, count = EXPECTED[name]
    with torch.device("meta"):
        model = timm.create_model(name)
    gates = discover_gates(model)
    assert len(gates) == count
    assert {g.kind.name for g in gates} == {kind}
    assert len({g.name for g in gates}) == count, "names must be unique"
    assert [g.index for g in gates] == list(range(count))
    for g in gates:
        assert g.channels > 0
        assert g.paths == (1 if g.kind.name in ("se", "eca") else 2)


def test_seresnet50_names_follow_the_senet_paper():
    with torch.device("meta"):
        gates = discover_gates(timm.create_model("seresnet50"))
    names = [g.name for g in gates]
    assert names[:3] == ["SE_2_1", "SE_2_2", "SE_2_3"]
    assert names[-3:] == ["SE_5_1", "SE_5_2", "SE_5_3"]
    assert "SE_4_6" in names and "SE_4_7" not in names
    by_name = {g.name: g for g in gates}
    assert by_name["SE_2_3"].module == "layer1.2.se"
    assert by_name["SE_2_3"].channels == 256 and by_name["SE_5_3"].channels == 2048


def test_skresnet18_gates_are_the_sk_attention():
    with torch.device("meta"):
        gates = discover_gates(timm.create_model("skresnet18"))
    assert [g.name for g in gates] == ["SK_2_1", "SK_2_2", "SK_3_1", "SK_3_2", "SK_4_1", "SK_4_2", "SK_5_1", "SK_5_2"]
    assert gates[0].module == "layer1.0.conv1.attn" and gates[0].channels == 64


def test_eca_channels_are_measured():
    gates = discover_gates(timm.create_model("ecaresnet50d"))
    assert [g.channels for g in gates][:3] == [256, 256, 256]
    assert gates[-1].channels == 2048 and gates[0].name == "ECA_2_1"


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_bundled_architectures_have_gates(arch):
    gates = discover_gates(build_architecture(arch, 10))
    assert len(gates) == (4 if arch == "resnest_half" else 8)
    assert gates[0].stage == 2 and gates[-1].stage == 5


def test_stage_block_layouts():
    assert stage_block("layer1.0.se") == (2, 1)
    assert stage_block("blocks.0.0.se") == (2, 1)
    assert stage_block("s3.b12.se") == (3, 12)
    assert stage_block("features.3") is None


def test_duplicate_and_unknown_layouts_get_distinct_names():
    names = paper_names([("layer1.0.a", "SE"), ("layer1.0.b", "SE"), ("head.x", "SK"), ("head.y", "SK")])
    assert [n for n, _, _ in names] == ["SE_2_1a", "SE_2_1b", "SK_1", "SK_2"]


def test_summaries_by_kind_follow_their_definitions():
    from attnviz.gates import PathSummary, ValueSummary, kind_named

    excitation = np.array([[0.2, 0.6, 0.4, 0.8]])
    se = kind_named("se").summary(excitation)
    assert type(se) is ValueSummary
    # population std of 0.2, 0.6, 0.4, 0.8 (mean 0.5): sqrt((0.09 + 0.01 + 0.01 + 0.09) / 4)
    assert (se.mean, se.std, se.min, se.max) == pytest.approx((0.5, np.sqrt(0.05), 0.2, 0.8))
    assert se.table_cells() == {"mean": "0.500", "std": "0.224", "min": "0.200", "max": "0.800"}

    paths = np.array([[0.9, 0.2, 0.4], [0.1, 0.8, 0.6]])     # a, then b; a + b = 1 per channel
    sk = kind_named("sk").summary(paths)
    assert isinstance(sk, PathSummary)
    assert sk.path_means == pytest.approx((0.5, 0.5)) and sk.mean_a == pytest.approx(0.5)
    assert sk.mean_diff == pytest.approx((-0.8 + 0.6 + 0.2) / 3)
    assert sk.table_cells() == {"mean_a": "0.500", "mean_b": "0.500", "b-a": "+0.000"}
    row = sk.to_dict()
    assert row["mean_paths"] == pytest.approx([0.5, 0.5]) and row["mean"] == pytest.approx(0.5)
    assert set(row) == {"mean", "std", "min", "max", "mean_paths", "mean_a", "mean_b", "mean_diff"}


def test_a_gate_summary_row_names_the_gate_as_the_model_does():
    from attnviz.analysis.statistics import gate_summary
    from tiny import tiny

    loaded = tiny("sk_resnet18_half", size=64)
    gate = loaded.gates[0]
    values = np.linspace(0.1, 0.9, gate.paths * gate.channels).reshape(gate.paths, gate.channels)
    summary = gate_summary(gate, values)
    row = summary.to_dict()
    assert {k: row[k] for k in ("name", "kind", "module", "channels", "paths")} == {
        "name": gate.name, "kind": "sk", "module": gate.module, "channels": gate.channels, "paths": 2}
    assert (summary.module, summary.channels) == (gate.module, gate.channels)
    assert row["mean_diff"] == pytest.approx((values[1] - values[0]).mean())
