"""Gates found by what they compute (attnviz.gates.pattern) and a researcher's own model file
(attnviz.load_model_file, ``attnviz inspect --model-file``)."""
from __future__ import annotations

import json
import textwrap

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from attnviz import AttentionCapture, AttnvizError, ModelLoadError, load_model_file
from attnviz.gates.pattern import GateTap, find_pattern_gates
from attnviz.gates.se import SE
from attnviz.gates.sk import SK

torch.manual_seed(0)


def conv(cin, cout, **kw):
    return nn.Conv2d(cin, cout, 3, padding=kw.pop("padding", 1), **kw)


# ---------------------------------------------------------------- the attention forms

class SEModuleSigmoid(nn.Module):
    """SE with an nn.Sigmoid module."""

    def __init__(self, c, r=4):
        super().__init__()
        self.fc1, self.fc2 = nn.Conv2d(c, c // r, 1), nn.Conv2d(c // r, c, 1)
        self.gate = nn.Sigmoid()

    def excitation(self, x):
        return self.gate(self.fc2(F.relu(self.fc1(x.mean((2, 3), keepdim=True)))))

    def forward(self, x):
        return x * self.excitation(x)


class Recalibrate(nn.Module):
    """SE written functionally, with odd attribute names and nn.Linear layers."""

    def __init__(self, c):
        super().__init__()
        self.squash_a, self.squash_b = nn.Linear(c, 8), nn.Linear(8, c)

    def excitation(self, x):
        b, c = x.shape[0], x.shape[1]
        return torch.sigmoid(self.squash_b(F.relu(self.squash_a(x.mean((2, 3)))))).view(b, c, 1, 1)

    def forward(self, x):
        return self.excitation(x) * x


class ECALike(nn.Module):
    """ECA: a 1-d convolution across the channels, then a sigmoid."""

    def __init__(self, k=3):
        super().__init__()
        self.conv = nn.Conv1d(1, 1, k, padding=k // 2, bias=False)

    def excitation(self, x):
        y = self.conv(x.mean((2, 3)).unsqueeze(1))                    # (B, 1, C)
        return y.sigmoid().transpose(-1, -2).unsqueeze(-1)           # (B, C, 1, 1)

    def forward(self, x):
        return x * self.excitation(x).expand_as(x)


class CBAMChannel(nn.Module):
    """CBAM's channel half: a shared MLP on avg- and max-pooled descriptors."""

    def __init__(self, c):
        super().__init__()
        self.mlp = nn.Sequential(nn.Conv2d(c, c // 4, 1), nn.ReLU(), nn.Conv2d(c // 4, c, 1))

    def excitation(self, x):
        return torch.sigmoid(self.mlp(F.adaptive_avg_pool2d(x, 1)) + self.mlp(F.adaptive_max_pool2d(x, 1)))

    def forward(self, x):
        return x * self.excitation(x)


class SpatialAttention(nn.Module):
    """CBAM's spatial half: a (B, 1, H, W) map — not a channel gate."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 1, 7, padding=3)

    def forward(self, x):
        m = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], 1)
        return x * torch.sigmoid(self.conv(m))


class ScalarSigmoid(nn.Module):
    """A sigmoid multiplied by a scalar, then added: not a channel gate."""

    def forward(self, x):
        return x + 0.5 * torch.sigmoid(x.mean((2, 3), keepdim=True)) * 2.0


class SKSelect(nn.Module):
    """SK-like: two branches, a softmax across them per channel, indexed per path."""

    def __init__(self, c):
        super().__init__()
        self.branch3, self.branch5 = conv(c, c), conv(c, c, padding=2, dilation=2)
        self.fc, self.fcs = nn.Linear(c, 8), nn.Linear(8, 2 * c)
        self.c = c

    def weights(self, x):
        u1, u2 = self.branch3(x), self.branch5(x)
        z = F.relu(self.fc((u1 + u2).mean((2, 3))))
        return u1, u2, F.softmax(self.fcs(z).view(-1, 2, self.c), dim=1)

    def forward(self, x):
        u1, u2, w = self.weights(x)
        return w[:, 0, :, None, None] * u1 + w[:, 1, :, None, None] * u2


class SKStacked(SKSelect):
    """SK-like with stacked branches (B, 2, C, H, W) and an nn.Softmax module, as timm writes it."""

    def __init__(self, c):
        super().__init__(c)
        self.select = nn.Softmax(dim=1)

    def weights(self, x):
        u1, u2 = self.branch3(x), self.branch5(x)
        z = F.relu(self.fc((u1 + u2).mean((2, 3))))
        return u1, u2, self.select(self.fcs(z).view(-1, 2, self.c, 1, 1))

    def forward(self, x):
        u1, u2, w = self.weights(x)
        return (torch.stack([u1, u2], 1) * w).sum(1)


class Net(nn.Module):
    """A small CNN around the attention blocks, nested in Sequential and ModuleDict."""

    def __init__(self, blocks, c=16, classes=5):
        super().__init__()
        self.stem = conv(3, c, stride=2)
        self.body = nn.Sequential(*[nn.Sequential(conv(c, c), nn.ReLU(), b) for b in blocks])
        self.head = nn.Linear(c, classes)

    def forward(self, x):
        return self.head(self.body(F.relu(self.stem(x))).mean((2, 3)))


class Dict(nn.Module):
    def __init__(self, c=16):
        super().__init__()
        self.stem = conv(3, c)
        self.parts = nn.ModuleDict({"odd-name": Recalibrate(c), "second": nn.ModuleDict({"eca": ECALike()})})

    def forward(self, x):
        x = self.stem(x)
        return self.parts["second"]["eca"](self.parts["odd-name"](x)).mean((2, 3))


def feature_input(model, batch):
    """The input of every attention block, recorded in a forward pass."""
    seen = {}
    hooks = [m.register_forward_pre_hook(lambda _mod, args, p=p: seen.setdefault(p, args[0]))
             for p, m in model.named_modules()]
    with torch.no_grad():
        model(batch)
    for h in hooks:
        h.remove()
    return seen


def check(block_type, kind, paths, c=16, module="body.0.2"):
    model = Net([block_type(c) if block_type is not ECALike else ECALike()], c=c).eval()
    found = find_pattern_gates(model, input_size=32)
    assert found.untraced == []
    [gate] = found.gates
    assert (gate.kind, gate.channels, gate.paths, gate.variant) == (kind, c, paths, "pattern")
    assert gate.module == module
    batch = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        expected_logits = model(batch)
        with AttentionCapture(found.model, found.gates) as cap:
            logits = found.model(batch)
    assert torch.allclose(logits, expected_logits, atol=1e-6)   # the rewrite changes nothing
    x = feature_input(model, batch)[module]
    block = model.get_submodule(module)
    with torch.no_grad():
        direct = block.weights(x)[2] if paths > 1 else block.excitation(x)
    assert torch.allclose(cap.result()[gate.name], direct.reshape(3, paths, c), atol=1e-6)
    return found


def test_se_with_sigmoid_module_is_captured_at_the_module():
    found = check(SEModuleSigmoid, SE, 1)
    assert found.model is not None and found.gates[0].source == "body.0.2.gate"
    assert found.gates[0].name == "SE_1"
    assert not any(isinstance(m, GateTap) for m in found.model.modules())   # left as it is


def test_functional_sigmoid_gets_a_tap():
    found = check(Recalibrate, SE, 1)
    assert found.gates[0].source == "body.0.2.gate_tap"
    assert isinstance(found.model.get_submodule("body.0.2.gate_tap"), GateTap)
    # the state dict keeps its names, so weights trained on the original load into the rewrite
    assert set(found.model.state_dict()) == set(Net([Recalibrate(16)]).state_dict())


def test_eca_like():
    check(ECALike, SE, 1)


def test_cbam_channel_half():
    check(CBAMChannel, SE, 1)


def test_sk_like_selection_indexed_per_path():
    check(SKSelect, SK, 2)


def test_sk_like_selection_stacked_with_softmax_module():
    found = check(SKStacked, SK, 2)
    assert found.gates[0].source == "body.0.2.select"


def test_nested_module_dict_and_depth_names():
    model = Dict().eval()
    found = find_pattern_gates(model, input_size=32)
    assert [(g.name, g.module, g.channels) for g in found.gates] == [
        ("SE_1", "parts.odd-name", 16), ("SE_2", "parts.second.eca", 16)]


def test_several_blocks_in_depth_order():
    model = Net([SEModuleSigmoid(16), SKSelect(16), Recalibrate(16)]).eval()
    found = find_pattern_gates(model, input_size=32)
    assert [(g.name, g.kind) for g in found.gates] == [("SE_1", SE), ("SK_1", SK), ("SE_2", SE)]


class Predicts(nn.Module):
    """A sigmoid output returned as a prediction (multi-label head)."""

    def __init__(self):
        super().__init__()
        self.stem, self.head = conv(3, 8), nn.Linear(8, 4)

    def forward(self, x):
        return torch.sigmoid(self.head(self.stem(x).mean((2, 3))))


class StaticScale(nn.Module):
    """A learned per-channel scale that does not depend on the image."""

    def __init__(self):
        super().__init__()
        self.stem, self.scale = conv(3, 8), nn.Parameter(torch.zeros(1, 8, 1, 1))

    def forward(self, x):
        return (self.stem(x) * self.scale.sigmoid()).mean((2, 3))


@pytest.mark.parametrize("model", [Predicts(), Net([SpatialAttention()]), Net([ScalarSigmoid()]), StaticScale()],
                         ids=["prediction", "spatial-map", "scalar", "static-scale"])
def test_look_alikes_are_not_gates(model):
    found = find_pattern_gates(model.eval(), input_size=32)
    assert found.gates == [] and found.untraced == []


class Untraceable(nn.Module):
    """Data-dependent control flow at the top: torch.fx cannot trace it, its parts can."""

    def __init__(self):
        super().__init__()
        self.stem, self.block = conv(3, 16), nn.Sequential(conv(16, 16), Recalibrate(16))

    def forward(self, x):
        x = self.stem(x)
        if x.mean() > 1e9:   # depends on the values
            x = x * 2
        return self.block(x).mean((2, 3))


def test_untraceable_model_is_traced_part_by_part():
    model = Untraceable().eval()
    batch = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        expected = model(batch)
    found = find_pattern_gates(model, input_size=32)
    assert len(found.untraced) == 1 and found.untraced[0].startswith("(the model): ")
    [gate] = found.gates
    assert (gate.module, gate.source, gate.channels) == ("block.1", "block.1.gate_tap", 16)
    with torch.no_grad(), AttentionCapture(found.model, found.gates) as cap:
        assert torch.allclose(found.model(batch), expected, atol=1e-6)
    assert isinstance(model.block, nn.Sequential)   # the given model is not changed
    with torch.no_grad():
        x = model.block[0](model.stem(batch))
        direct = model.block[1].excitation(x)
    assert torch.allclose(cap.result()["SE_1"], direct.reshape(2, 1, 16), atol=1e-6)


def test_knock_out_through_a_tap():
    model = Net([Recalibrate(16)]).eval()
    found = find_pattern_gates(model, input_size=32)
    batch = torch.randn(2, 3, 32, 32)
    with torch.no_grad(), AttentionCapture(found.model, found.gates, neutralise=["SE_1"]):
        knocked = found.model(batch)
    with torch.no_grad():
        x = model.body[0][1](model.body[0][0](F.relu(model.stem(batch))))
        expected = model.head(x.mean((2, 3)))   # s = 1: the block passes x through
    assert torch.allclose(knocked, expected, atol=1e-5)


# ---------------------------------------------------------------- a model file

MODEL_FILE = '''
import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        self.a, self.b = nn.Conv2d(c, 4, 1), nn.Conv2d(4, c, 1)

    def forward(self, x):
        x = torch.relu(self.conv(x))
        return x * torch.sigmoid(self.b(torch.relu(self.a(x.mean((2, 3), keepdim=True)))))


class MyNet(nn.Module):
    def __init__(self, classes=3):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=4, padding=1)
        self.blocks = nn.Sequential(Block(8), Block(8))
        self.fc = nn.Linear(8, classes)

    def forward(self, x):
        return self.fc(self.blocks(self.stem(x)).mean((2, 3)))


def build():
    torch.manual_seed(0)
    return MyNet()


def broken():
    raise RuntimeError("no GPU here")


def not_a_model():
    return 42
'''


@pytest.fixture()
def model_file(tmp_path):
    path = tmp_path / "my_net.py"
    path.write_text(textwrap.dedent(MODEL_FILE))
    return path


def test_load_model_file(model_file, tmp_path):
    loaded = load_model_file(f"{model_file}:build", device="cpu")
    assert loaded.source == "file" or loaded.source == "custom"
    assert [(g.name, g.module, g.channels) for g in loaded.gates] == [("SE_1", "blocks.0", 8), ("SE_2", "blocks.1", 8)]
    assert loaded.class_names == ["class 0", "class 1", "class 2"]
    # weights: a state dict saved from the builder's model loads into it (then the rewrite)
    import importlib.util

    spec = importlib.util.spec_from_file_location("my_net_copy", model_file)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    net = mod.MyNet()
    torch.save(net.state_dict(), tmp_path / "w.pth")
    loaded = load_model_file(f"{model_file}:build", weights=tmp_path / "w.pth", class_names=["a", "b", "c"])
    batch = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(loaded.model(batch), net.eval()(batch), atol=1e-6)
    assert loaded.class_names == ["a", "b", "c"]


@pytest.mark.parametrize("spec, message", [
    ("{d}/missing.py:build", "does not exist"),
    ("{d}/my_net.py", "FILE.py:FUNCTION"),
    ("{d}/my_net.py:nope", "has no function 'nope'"),
    ("{d}/my_net.py:broken", "RuntimeError: no GPU here"),
    ("{d}/my_net.py:not_a_model", "not a torch.nn.Module"),
])
def test_load_model_file_errors(model_file, spec, message):
    spec = spec.format(d=model_file.parent)
    with pytest.raises(ModelLoadError) as err:
        load_model_file(spec)
    assert message in str(err.value) and str(model_file.parent) in str(err.value)
    assert isinstance(err.value, AttnvizError)


def test_cli_inspect_model_file(model_file, goldfish, capsys):
    from attnviz.cli import main

    assert main(["inspect", str(goldfish), "--model-file", f"{model_file}:build", "--device", "cpu", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    [image] = out["images"]
    assert [g["name"] for g in image["gates"]] == ["SE_1", "SE_2"]
    assert all(g["channels"] == 8 and 0 < g["mean"] < 1 for g in image["gates"])


def test_cli_model_and_model_file_exclude_each_other(model_file, goldfish):
    from attnviz.cli import main

    with pytest.raises(SystemExit):
        main(["inspect", str(goldfish), "--model", "x", "--model-file", f"{model_file}:build"])


def test_timm_modules_and_pattern_gates_are_merged_in_forward_order(tmp_path):
    (tmp_path / "mixed.py").write_text(textwrap.dedent('''
        import torch
        import torch.nn as nn
        from timm.layers.squeeze_excite import SEModule


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.stem = nn.Conv2d(3, 16, 3, stride=4, padding=1)
                self.first = nn.Conv2d(16, 16, 1)
                self.mine = nn.Linear(16, 16)
                self.timm_se = SEModule(16)
                self.fc = nn.Linear(16, 4)

            def forward(self, x):
                x = self.first(self.stem(x))
                x = x * torch.sigmoid(self.mine(x.mean((2, 3))))[..., None, None]
                return self.fc(self.timm_se(x).mean((2, 3)))


        def build():
            return Net()
        '''))
    loaded = load_model_file(f"{tmp_path / 'mixed.py'}:build", device="cpu")
    assert [(g.name, g.variant, g.source) for g in loaded.gates] == [
        ("SE_1", "pattern", "gate_tap"), ("SE_2", "se", "timm_se.gate")]
    assert [g.index for g in loaded.gates] == [0, 1]


def test_the_served_app_does_not_offer_model_files():
    from pathlib import Path

    import attnviz

    root = Path(attnviz.__file__).parent
    sources = [root.parent / "app.py", *(root / "app").rglob("*.py"), *(root / "serving").rglob("*.py")]
    for source in sources:
        assert "model_file" not in source.read_text(), source   # it would run visitors' code


def test_timm_cbam_channel_half_found_spatial_half_not():
    # timm's ChannelAttn is a registered kind now (attnviz/gates/cbam.py): discovery finds the channel
    # half by type and the pattern search leaves it whole; the spatial half (B, 1, H, W) is no gate
    import timm

    from attnviz.gates import discover_gates
    from attnviz.gates.cbam import CBAM

    model = timm.create_model("resnet18", pretrained=False, block_args={"attn_layer": "cbam"}).eval()
    found = find_pattern_gates(model, input_size=64)
    assert found.model is model and found.untraced == [] and found.gates == []
    gates = discover_gates(model)
    assert len(gates) == 8 and {g.kind for g in gates} == {CBAM}   # one per block: the channel half only
    first = gates[0]
    assert (first.name, first.module, first.source, first.channels) == (
        "CBAM_2_1", "layer1.0.se.channel", "layer1.0.se.channel.gate", 64)
