"""Capture: values reproduce each attention module's output; hooks always go; threads isolated."""
from __future__ import annotations

import threading

import pytest
import timm
import torch

from attnviz.models.architectures import build_architecture
from attnviz.capture.attention import AttentionCapture, has_hooks, neutral_value
from attnviz.gates import discover_gates

from zoo_gates import EXPECTED


def _input(seed: int = 0, batch: int = 2, size: int = 64) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 3, size, size, generator=g)


def _close(actual: torch.Tensor, expected: torch.Tensor) -> None:
    scale = float(expected.abs().max()) or 1.0
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-5 * scale)


@pytest.fixture(scope="module")
def models():
    cache = {}

    def get(name):
        if name not in cache:
            torch.manual_seed(0)
            cache[name] = timm.create_model(name).eval()
        return cache[name]
    return get


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_captured_values_reproduce_the_attention_output(name, models):
    model = models(name)
    gates = discover_gates(model)
    modules = dict(model.named_modules())
    seen: dict[str, dict] = {}
    handles = []
    for gate in gates:
        module = modules[gate.module]
        record = seen.setdefault(gate.name, {})
        if gate.kind.name in ("se", "eca"):
            handles.append(module.register_forward_hook(
                lambda _m, i, o, r=record: r.update(x=i[0].detach().clone(), out=o.detach().clone())))
        elif gate.kind.name == "sk":
            parent = modules[gate.module.rsplit(".", 1)[0]]
            for k, path in enumerate(parent.paths):
                handles.append(path.register_forward_hook(
                    lambda _m, _i, o, r=record, k=k: r.__setitem__(f"path{k}", o.detach().clone())))
            handles.append(parent.register_forward_hook(
                lambda _m, _i, o, r=record: r.update(out=o.detach().clone())))
        else:  # split attention: the splits are the output of act0, before the gate
            handles.append(module.act0.register_forward_hook(
                lambda _m, _i, o, r=record: r.update(x=o.detach().clone())))
            handles.append(module.register_forward_hook(
                lambda _m, _i, o, r=record: r.update(out=o.detach().clone())))
    try:
        with torch.no_grad(), AttentionCapture(model, gates) as cap:
            model(_input())
    finally:
        for h in handles:
            h.remove()
    result = cap.result()
    assert len(result) == len(gates)
    for gate in gates:
        values = result[gate.name]
        assert values.dtype == torch.float32
        assert values.shape == (2, gate.paths, gate.channels)
        rec = seen[gate.name]
        if gate.kind.name in ("se", "eca"):
            assert float(values.min()) >= 0.0 and float(values.max()) <= 1.0
            s = values[:, 0, :, None, None]
            _close(rec["x"] * s, rec["out"])
        elif gate.kind.name == "sk":
            _close(values.sum(dim=1), torch.ones_like(values[:, 0]))
            a, b = values[:, 0, :, None, None], values[:, 1, :, None, None]
            _close(rec["path0"] * a + rec["path1"] * b, rec["out"])
        else:
            _close(values.sum(dim=1), torch.ones_like(values[:, 0]))
            x = rec["x"].reshape(2, gate.paths, gate.channels, *rec["x"].shape[-2:])
            _close((x * values[..., None, None]).sum(dim=1), rec["out"])
        per_image = result.for_image(1)[gate.name]
        assert per_image.shape == ((gate.channels,) if gate.kind.name in ("se", "eca") else (gate.paths, gate.channels))
    assert not has_hooks(model)


def test_hooks_are_removed_even_when_the_forward_fails():
    model = build_architecture("se_resnet18_half", 10).eval()
    with pytest.raises(RuntimeError), AttentionCapture(model):
        assert has_hooks(model)
        model(torch.randn(1, 5, 32, 32))  # wrong channel count
    assert not has_hooks(model)


def test_values_stay_on_the_device_and_batches_concatenate():
    model = build_architecture("sk_resnet18_half", 10).eval()
    with torch.no_grad(), AttentionCapture(model) as cap:
        model(_input(1, batch=2))
        model(_input(2, batch=3))
    result = cap.result()
    assert result.batch_size == 5
    assert all(v.device.type == "cpu" for v in result.values.values())


def test_neutralised_gate_passes_features_through_and_still_reports_its_value():
    torch.manual_seed(0)
    model = build_architecture("se_resnet18_half", 10).eval()
    for m in model.modules():  # timm zero-inits each block's last BN, which would hide the gate
        if isinstance(m, torch.nn.BatchNorm2d):
            torch.nn.init.uniform_(m.weight, 0.5, 1.5)
    gates = discover_gates(model)
    target = gates[2]
    se = dict(model.named_modules())[target.module]
    io = {}
    handle = se.register_forward_hook(lambda _m, i, o: io.update(x=i[0].clone(), out=o.clone()))
    x = _input(3)
    with torch.no_grad(), AttentionCapture(model, neutralise=[target.name]) as cap:
        knocked = model(x)
    handle.remove()
    with torch.no_grad():
        plain = model(x)
    _close(io["out"], io["x"])  # s = 1
    assert not torch.allclose(knocked, plain)
    assert float((cap.result()[target.name] - 1).abs().max()) > 1e-3  # the original s, not 1
    assert neutral_value(target) == 1.0
    with pytest.raises(KeyError):
        AttentionCapture(model, neutralise=["SE_9_9"])


def test_sk_neutral_value_is_a_half():
    gates = discover_gates(build_architecture("sk_resnet18_half", 10))
    assert neutral_value(gates[0]) == 0.5


def test_concurrent_captures_on_one_shared_model_are_isolated():
    torch.manual_seed(0)
    model = build_architecture("sk_resnet18_half", 10).eval()
    inputs = [_input(seed, batch=2, size=48) for seed in range(4)]

    def run(x):
        with torch.no_grad(), AttentionCapture(model) as cap:
            logits = model(x)
        return logits, cap.result()

    expected = [run(x) for x in inputs]
    barrier = threading.Barrier(len(inputs))
    got: dict[int, list] = {i: [] for i in range(len(inputs))}
    errors = []

    def worker(i):
        try:
            barrier.wait()
            for _ in range(3):
                got[i].append(run(inputs[i]))
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i, runs in got.items():
        for logits, result in runs:
            torch.testing.assert_close(logits, expected[i][0])
            assert result.batch_size == 2
            for name, values in expected[i][1].values.items():
                torch.testing.assert_close(result[name], values)
    assert not has_hooks(model)
