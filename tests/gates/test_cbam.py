"""CBAM's channel attention (Woo et al., 2018) as the fifth attention kind, added by its own files
(attnviz/gates/cbam.py, attnviz/views/kinds/cbam.py): discovery in a timm model, capture checked
against the definition written again, walkthrough, profiles, and the app's Explore, Learn and
Compare pages on a randomly initialised bundled CBAM model."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from timm.layers.cbam import ChannelAttn

from attnviz.models.architectures import build_architecture
from attnviz.capture.attention import AttentionCapture, has_hooks
from attnviz.gates import EXCITATION, discover_gates, kind_named
from attnviz.gates.cbam import CBAM
from attnviz.images.loading import load_image
from attnviz.analysis.inference import analyse_images
from attnviz.views.explore import explore_charts
from attnviz.views.kinds import value_label, view_of
from attnviz.views.learn import live_numbers, walkthrough_chart
from attnviz.analysis.walkthrough import walkthrough
from attnviz.models.zoo import wrap_model
from bundled_kit import CLASS_NAMES, app_test, write_bundled

SMALL = {"input_size": (3, 64, 64), "interpolation": "bicubic", "mean": (0.485, 0.456, 0.406),
         "std": (0.229, 0.224, 0.225), "crop_pct": 1.0, "crop_mode": "center"}


def _random_bn(model: torch.nn.Module) -> torch.nn.Module:
    for module in model.modules():  # random BN scales so that the gates vary
        if isinstance(module, torch.nn.BatchNorm2d):
            torch.nn.init.uniform_(module.weight, 0.5, 1.5)
            torch.nn.init.uniform_(module.bias, -0.2, 0.2)
    return model.eval()


@pytest.fixture(scope="module")
def loaded():
    torch.manual_seed(0)
    return wrap_model(_random_bn(build_architecture("cbam_resnet18_half", len(CLASS_NAMES))), "cbam-test",
                      CLASS_NAMES, SMALL)


@pytest.fixture(scope="module")
def fish(goldfish):
    return load_image(goldfish)


def _channel_attention_by_definition(module: ChannelAttn, x: torch.Tensor) -> torch.Tensor:
    """M_c(F) = sigmoid(W1 ReLU(W0 AvgPool(F)) + W1 ReLU(W0 MaxPool(F))), the CBAM paper's eq. (2),
    from the module's weights: (B, C)."""
    w0, w1 = module.fc1.weight.flatten(1), module.fc2.weight.flatten(1)

    def mlp(v):
        return torch.relu(v @ w0.T) @ w1.T

    return torch.sigmoid(mlp(x.mean((2, 3))) + mlp(x.amax((2, 3))))


def test_discovery_finds_the_channel_half_of_each_cbam_module(loaded):
    gates = loaded.gates
    assert [g.name for g in gates] == [f"CBAM_{s}_{b}" for s in (2, 3, 4, 5) for b in (1, 2)]
    assert all(g.kind is CBAM and g.paths == 1 and g.variant == "cbam" for g in gates)
    assert [g.channels for g in gates] == [32, 32, 64, 64, 128, 128, 256, 256]
    assert gates[0].module == "layer1.0.se.channel" and gates[0].source == "layer1.0.se.channel.gate"
    assert kind_named("cbam") is CBAM and CBAM.draws(EXCITATION)
    assert value_label(gates[0]) == "excitation s" and gates[0].neutral_value == 1.0


def test_timm_resnet_with_cbam_layers_has_cbam_gates():
    import timm

    with torch.device("meta"):
        model = timm.create_model("resnet18", block_args=dict(attn_layer="cbam"))
    gates = discover_gates(model)
    assert len(gates) == 8 and {g.kind for g in gates} == {CBAM}


def test_captured_values_are_the_channel_attention_of_the_definition(loaded):
    model = loaded.model
    inputs: dict[str, torch.Tensor] = {}
    handles = [model.get_submodule(g.module).register_forward_pre_hook(
        lambda _m, args, name=g.name: inputs.__setitem__(name, args[0].detach().clone())) for g in loaded.gates]
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    try:
        with torch.no_grad(), AttentionCapture(model, loaded.gates) as cap:
            model(x)
    finally:
        for h in handles:
            h.remove()
    result = cap.result()
    for g in loaded.gates:
        module = model.get_submodule(g.module)
        with torch.no_grad():
            expected = _channel_attention_by_definition(module, inputs[g.name])
        np.testing.assert_allclose(result[g.name][:, 0].numpy(), expected.numpy(), atol=1e-5)
        # the max-pooled half matters: an SE-like gate of the average alone is not what was captured
        se_like = torch.sigmoid(torch.relu(inputs[g.name].mean((2, 3)) @ module.fc1.weight.detach().flatten(1).T)
                                @ module.fc2.weight.detach().flatten(1).T)
        assert float((result[g.name][:, 0] - se_like).abs().max()) > 1e-3
    assert not has_hooks(model)


def test_walkthrough_follows_the_formulas(loaded, fish):
    gate = loaded.gates[-1]
    module = loaded.model.get_submodule(gate.module)
    seen = {}
    handle = module.register_forward_pre_hook(lambda _m, args: seen.__setitem__("u", args[0][0].detach().clone()))
    try:
        w = walkthrough(loaded, fish, gate.name)
    finally:
        handle.remove()
    u = seen["u"]
    w0, w1 = module.fc1.weight.detach().flatten(1), module.fc2.weight.detach().flatten(1)
    np.testing.assert_allclose(w.z, u.mean((1, 2)).numpy(), atol=1e-5)
    np.testing.assert_allclose(w.z_max, u.amax((1, 2)).numpy(), atol=1e-5)
    np.testing.assert_allclose(w.mlp_avg, (w1 @ torch.relu(w0 @ u.mean((1, 2)))).numpy(), atol=1e-5)
    np.testing.assert_allclose(w.mlp_max, (w1 @ torch.relu(w0 @ u.amax((1, 2)))).numpy(), atol=1e-4)
    with torch.no_grad():
        np.testing.assert_allclose(w.s, _channel_attention_by_definition(module, u[None])[0].numpy(), atol=1e-5)
    np.testing.assert_allclose(w.v, (torch.as_tensor(w.s)[:, None, None] * u).numpy(), atol=1e-5)
    assert w.kind is CBAM and w.hidden == 16 and w.reduction == 16 and w.gate_fn == "Sigmoid"
    assert max(w.checks.values()) < 1e-4 and len(w.checks) == 3
    rows = {r["symbol"]: r["value"] for r in live_numbers(w, 3)}
    assert rows["r"] == "16" and float(rows["max_3"]) == pytest.approx(float(u[3].max()), abs=1e-4)
    assert float(rows["s_3"]) == pytest.approx(float(w.s[3]), abs=1e-4)
    chart = walkthrough_chart(w, 3)
    assert len(chart.figure.layout.annotations) >= 4        # the four panels, titled
    assert CBAM.most_attended(w) == int(np.argmax(w.s))


def test_explore_shows_cbam_as_a_channel_gate(loaded, fish):
    charts = explore_charts(loaded, analyse_images(loaded, [fish], ["fish"]))
    assert [c.key for c in charts] == ["excitation_heatmap_fish", "excitation_distribution", "excitation_bars_CBAM_5_2"]


def test_profile_class_means_weight_each_image_once(loaded, fish, samples_dir):  # noqa: ARG001  fixture: skips without the samples
    from attnviz.profiles.builder import profile_images

    photos = [load_image(p) for p in sorted(samples_dir.iterdir())[:5]]
    labels = [0, 0, 0, 1, 1]                                           # 3 and 2 images: unequal classes
    profile = profile_images(loaded, photos, labels, ["first", "second"])
    values = [a.values for a in analyse_images(loaded, photos)]
    name = loaded.gates[2].name
    for k, members in ((0, [0, 1, 2]), (1, [3, 4])):
        by_hand = np.mean([values[i][name] for i in members], axis=0)
        np.testing.assert_allclose(profile.mean(name)[k], by_hand, atol=1e-5)
    overall = np.mean([values[i][name] for i in range(5)], axis=0)      # every image once, not every class
    np.testing.assert_allclose(profile.overall_mean(name), overall, atol=1e-5)


def test_the_learn_text_is_cbams_own():
    lesson = view_of(CBAM).lesson()
    assert "Woo et al., 2018" in lesson and r"\mathbf{F}^c_{max}" in lesson
    assert view_of(CBAM).heading() == "CBAM channel attention"


# ---------------------------------------------------------------- the app, with a bundled CBAM model

@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> Path:
    assets = tmp_path_factory.mktemp("assets")
    write_bundled(assets, "cbam_resnet18_half", "test_cbam", default=True)
    return assets


def _on(at, page: str, samples_dir: Path):
    at.run()
    at.sidebar.multiselect(key="samples").set_value([str(samples_dir / "n01443537_goldfish.JPEG")])
    at.run()
    return at.switch_page(f"attnviz/app/pages/{page}.py").run()


def _no_trace(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not any("Traceback" in str(e.value) for e in at.error)


def test_the_app_explores_and_teaches_a_cbam_model(assets, samples_dir, monkeypatch):
    at = _on(app_test(monkeypatch, assets, samples_dir), "explore", samples_dir)
    _no_trace(at)
    keys = [e.key for e in at.get("plotly_chart")]
    assert any("excitation_heatmap" in k for k in keys) and any("excitation_bars_CBAM_5_2" in k for k in keys), keys
    at = at.switch_page("attnviz/app/pages/learn.py").run()
    _no_trace(at)
    assert [t.label for t in at.tabs][:1] == ["CBAM channel attention"]
    assert any("Woo et al., 2018" in str(m.value) for m in at.markdown)
    keys = [e.key for e in at.get("plotly_chart")]
    assert any(k.startswith("chart_learn_walkthrough_CBAM_") for k in keys), keys
    symbols = list(at.table[0].value["symbol"])
    assert any("MLP" in s for s in symbols), symbols
    at = at.switch_page("attnviz/app/pages/compare.py").run()
    _no_trace(at)


def test_the_home_diagram_of_a_cbam_gate_shows_its_two_descriptors(loaded, fish):
    from attnviz.figures.diagram import channel_diagram

    w = walkthrough(loaded, fish, loaded.gates[0].name)
    fig = channel_diagram(w)
    boxes = " ".join(a.text for a in fig.layout.annotations)
    assert fig.layout.title.text.startswith(f"CBAM's channel attention ({w.gate.name})")
    assert "mean and max" in boxes and "σ(MLP(avg) + MLP(max))" in boxes and "W₂" not in boxes
    np.testing.assert_allclose(fig.data[0].y, w.s[:48])
