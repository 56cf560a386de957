"""ECA (Wang et al., 2020) as its own attention kind: discovery, summary, capture, walkthrough,
and the app's views, all from attnviz/gates/eca.py."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from timm.layers.eca import CecaModule
from timm.models.resnet import BasicBlock, ResNet

from attnviz.capture.attention import has_hooks
from attnviz.gates import EXCITATION, SELECTION, discover_gates, kind_named
from attnviz.gates.eca import ECA
from attnviz.images.loading import load_image
from attnviz.analysis.inference import analyse_images
from attnviz.analysis.statistics import gate_summary
from attnviz.views.explore import explore_charts
from attnviz.views.kinds import value_label
from attnviz.views.learn import live_numbers, walkthrough_chart
from attnviz.analysis.walkthrough import walkthrough
from attnviz.models.zoo import wrap_model
from tiny import CLASS_NAMES

SMALL = {"input_size": (3, 64, 64), "interpolation": "bicubic", "mean": (0.485, 0.456, 0.406),
         "std": (0.229, 0.224, 0.225), "crop_pct": 1.0, "crop_mode": "center"}


def _eca_resnet(layer: str = "eca"):
    torch.manual_seed(0)
    model = ResNet(BasicBlock, [1, 1, 1, 1], num_classes=10, block_args=dict(attn_layer=layer))
    for module in model.modules():  # random BN scales so that the gates vary
        if isinstance(module, torch.nn.BatchNorm2d):
            torch.nn.init.uniform_(module.weight, 0.5, 1.5)
            torch.nn.init.uniform_(module.bias, -0.2, 0.2)
    return wrap_model(model, f"{layer}-resnet", CLASS_NAMES, SMALL)


@pytest.fixture(scope="module")
def fish(goldfish):
    return load_image(goldfish)


def test_eca_is_its_own_kind_with_its_own_names():
    gates = _eca_resnet().gates
    assert [g.name for g in gates] == ["ECA_2_1", "ECA_3_1", "ECA_4_1", "ECA_5_1"]
    assert all(g.kind is ECA and g.paths == 1 for g in gates)
    assert kind_named("eca") is ECA and ECA.draws(EXCITATION) and not ECA.draws(SELECTION)
    assert value_label(gates[0]) == "excitation s" and gates[0].neutral_value == 1.0


def test_summary_adds_the_neighbour_correlation(fish):
    loaded = _eca_resnet()
    [analysis] = analyse_images(loaded, [fish])
    gate = loaded.gates[1]
    summary = gate_summary(gate, analysis.values[gate.name])
    s = analysis.values[gate.name].reshape(-1).astype(np.float64)
    assert summary.kind == "eca" and summary.values.mean == pytest.approx(s.mean())
    # Pearson's r of (s_0..s_C-2) with (s_1..s_C-1), written out
    x, y = s[:-1] - s[:-1].mean(), s[1:] - s[1:].mean()
    r = (x * y).sum() / np.sqrt((x * x).sum() * (y * y).sum())
    assert summary.values.neighbour_correlation == pytest.approx(r)
    row = summary.to_dict()
    assert row["neighbour_correlation"] == pytest.approx(r) and row["std"] == pytest.approx(s.std())
    assert summary["neighbour_correlation"] == row["neighbour_correlation"] and summary["paths"] == 1  # as the old dict rows


@pytest.mark.parametrize("layer", ["eca", "ceca"])
def test_walkthrough_follows_the_formulas(fish, layer):
    loaded = _eca_resnet(layer)
    gate = loaded.gates[2]
    w = walkthrough(loaded, fish, gate.name)
    module = loaded.model.get_submodule(gate.module)
    assert w.kind is ECA and w.u_shape[0] == gate.channels == 256
    u = torch.as_tensor(w.u)
    np.testing.assert_allclose(w.z, u.mean((1, 2)).numpy(), atol=1e-5)
    k = module.conv.weight.numel()
    assert w.kernel_size == k == 5  # t = int(|log2(256) + 1| / 2) = 4 -> the next odd size, 5
    z = torch.as_tensor(w.z)[None, None]
    if isinstance(module, CecaModule):
        z = F.pad(z, ((k - 1) // 2,) * 2, mode="circular")
        conv = F.conv1d(z, module.conv.weight)
    else:
        conv = F.conv1d(z, module.conv.weight, padding=(k - 1) // 2)
    np.testing.assert_allclose(w.conv, conv.flatten().detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(w.s, torch.sigmoid(conv).flatten().detach().numpy(), atol=1e-5)
    assert max(w.checks.values()) < 1e-5 and not has_hooks(loaded.model)
    rows = {r["symbol"]: r["value"] for r in live_numbers(w, 3)}
    assert rows["k"] == "5" and rows["s_3"] == f"{w.s[3]:.4f}"
    assert len(walkthrough_chart(w, 3).figure.data) == 5  # z, conv, s, and u, x~ of the scale step


def test_the_explore_page_shows_eca_as_a_channel_gate(fish):
    loaded = _eca_resnet()
    charts = explore_charts(loaded, analyse_images(loaded, [fish], ["fish"]))
    assert [c.key for c in charts] == ["excitation_heatmap_fish", "excitation_distribution", "excitation_bars_ECA_5_1"]


def test_timm_ecaresnet_gates_are_eca():
    with torch.device("meta"):
        import timm
        model = timm.create_model("ecaresnet50d")
    assert {g.kind for g in discover_gates(model)} == {ECA}


def test_the_home_diagram_of_an_eca_gate_shows_ecas_formula(fish):
    from attnviz.figures.diagram import channel_diagram

    loaded = _eca_resnet()
    w = walkthrough(loaded, fish, loaded.gates[1].name)
    fig = channel_diagram(w)
    boxes = [a.text for a in fig.layout.annotations]
    assert fig.layout.title.text.startswith(f"An ECA block ({w.gate.name})")
    assert any("σ(conv1d(z))" in b for b in boxes) and not any("W₂" in b for b in boxes)   # not SE's MLP
    np.testing.assert_allclose(fig.data[0].y, w.s[:48])


def test_the_neighbour_correlation_needs_three_channels_that_vary():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no "invalid value" from numpy: the guard answers first
        three = ECA.summary(np.array([[0.1, 0.5, 0.3]]))
        # pairs (0.1, 0.5) and (0.5, 0.3): x rises while y falls, Pearson's r = -1
        assert three.neighbour_correlation == pytest.approx(-1.0)
        assert (three.mean, three.min, three.max) == pytest.approx((0.3, 0.1, 0.5))
        assert np.isnan(ECA.summary(np.array([[0.2, 0.7]])).neighbour_correlation)           # one pair
        assert np.isnan(ECA.summary(np.array([[0.4, 0.4, 0.4, 0.4]])).neighbour_correlation)  # constant
