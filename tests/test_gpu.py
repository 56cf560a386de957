"""The CUDA path (``pytest -m gpu``; every test skips without a GPU). bench/gpu/run.sh runs them.

Gate values on CUDA are compared with the CPU's for the same weights and photos. Tolerances are
absolute, on values in [0, 1] (sigmoid or softmax outputs):

* fp32 with TF32 off: 1e-4. Only the order of float32 sums differs (cuDNN's vs oneDNN's
  algorithms); rounding of order 1e-7 per operation, grown through ~50 layers, stays far below.
* fp32 as served (TF32 on, PyTorch's default for cuDNN convolutions): 1e-2. TF32 keeps 10 mantissa
  bits (relative rounding 2^-11 ~ 5e-4 per product), and a gate is sigma(z) with
  |ds| <= |dz| / 4.
* fp16 autocast (10 mantissa bits, like TF32, but activations are *stored* in fp16 too): 2e-2.
* bf16 autocast (7 mantissa bits: relative rounding 2^-8 ~ 4e-3 per stored activation, eight
  times fp16's): 6e-2.
"""
from __future__ import annotations

import contextlib
import functools
import threading

import pytest
import timm
import torch
import torch.nn as nn

from shared_data import SAMPLES

from attnviz.capture.attention import AttentionCapture, has_hooks
from attnviz.analysis.inference import analyse_images, forward_with_capture
from attnviz.models.zoo import bundled_models, load_model

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]

TIMM_MODELS = ["seresnet50", "skresnext50_32x4d", "resnest50d"]
TOLERANCE = {"fp32": 1e-4, "tf32": 1e-2, "fp16": 2e-2, "bf16": 6e-2}
PHOTOS = ["n01440764_tench.JPEG", "n01443537_goldfish.JPEG"]


def model_names() -> list[str]:
    return sorted(bundled_models()) + TIMM_MODELS


@contextlib.contextmanager
def tf32(enabled: bool):
    old = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = enabled
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = old


@functools.cache
def fixed_state(name: str) -> dict:
    """Seeded random weights for a timm model, made to give gates that vary: timm's init zeroes
    the last BatchNorm scale of every block (the SE input would be 0 and every gate the same), so
    the BN scales and shifts are drawn at random and the running statistics are those of the test
    photos and their mirror images (statistics of noise leave 85-99 % of the gates of these
    models at 0 or 1, where no error shows)."""
    from attnviz.images.loading import load_image

    loaded = load_model(name, pretrained=False, device="cpu")
    batch = loaded.preprocess([load_image(SAMPLES / p) for p in PHOTOS])
    torch.manual_seed(0)
    model = timm.create_model(name)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            nn.init.uniform_(module.weight, 0.5, 1.5)
            nn.init.uniform_(module.bias, -0.2, 0.2)
            module.reset_running_stats()
            module.momentum = None  # a cumulative average: the batch's own statistics
    model.train()
    with torch.no_grad():
        model(torch.cat([batch, batch.flip(-1)]))
    return {k: v.clone() for k, v in model.state_dict().items()}


def load(name: str, device: str, amp: str | None = None, channels_last: bool | None = None):
    """The model with fixed weights: bundled ones their own, timm ones ``fixed_state``."""
    if name in bundled_models():
        return load_model(name, device=device, amp=amp, channels_last=channels_last)
    loaded = load_model(name, pretrained=False, device=device, amp=amp, channels_last=channels_last)
    loaded.model.load_state_dict(fixed_state(name))
    return loaded


@pytest.fixture(scope="module")
def images(samples_dir):
    from attnviz.images.loading import load_image

    return [load_image(samples_dir / p) for p in PHOTOS]


@pytest.fixture(scope="module")
def cpu_values(images):
    out = {}
    for name in model_names():
        loaded = load(name, "cpu")
        out[name] = analyse_images(loaded, images)
        # The comparison means something only where the gates vary between channels.
        spread = [float(v.std()) for v in out[name][0].values.values()]
        assert sum(x > 1e-2 for x in spread) >= len(spread) / 2, (name, spread)
    return out


@pytest.mark.parametrize("precision", ["fp32", "tf32", "fp16", "bf16"])
@pytest.mark.parametrize("name", model_names())
def test_gate_values_on_cuda_equal_the_cpus(name, precision, images, cpu_values):
    amp = precision if precision in ("fp16", "bf16") else None
    with tf32(precision == "tf32"):
        gpu = load(name, "cuda", amp=amp)
        assert gpu.channels_last and gpu.device.type == "cuda"
        got = analyse_images(gpu, images)
    worst = 0.0
    for a, b in zip(cpu_values[name], got, strict=True):
        assert set(a.values) == set(b.values) and len(a.values) == len(gpu.gates) > 0
        for gate, values in a.values.items():
            assert b.values[gate].dtype == values.dtype == "float32"
            worst = max(worst, float(abs(b.values[gate] - values).max()))
    print(f"{name} {precision}: max |gpu - cpu| = {worst:.2e} (tolerance {TOLERANCE[precision]:.0e})")
    assert worst < TOLERANCE[precision]


@pytest.mark.parametrize("name", model_names())
def test_channels_last_changes_nothing(name, images):
    with tf32(False):
        a = analyse_images(load(name, "cuda", channels_last=True), images)
        b = analyse_images(load(name, "cuda", channels_last=False), images)
    for x, y in zip(a, b, strict=True):
        assert abs(x.probs - y.probs).max() < 1e-4
        for gate in x.values:
            assert abs(x.values[gate] - y.values[gate]).max() < TOLERANCE["fp32"]


@pytest.mark.parametrize("amp", [None, "bf16"])
@pytest.mark.parametrize("name", model_names())
def test_no_host_synchronisation_in_a_captured_forward(name, amp, images):
    """Capture and knock-outs queue work only: under sync debug mode 'error' any synchronising
    call (a .item(), a device-to-host copy, a nonzero) raises."""
    loaded = load(name, "cuda", amp=amp)
    batch = loaded.preprocess(images)  # the upload: its copy may wait, it is not per gate
    first = loaded.gates[0].name
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        probs, captured = forward_with_capture(loaded, batch)
        knocked, _ = forward_with_capture(loaded, batch, neutralise=[first])
    finally:
        torch.cuda.set_sync_debug_mode(0)
    assert probs.device.type == "cuda" and len(captured) == len(loaded.gates)
    assert torch.isfinite(probs).all() and torch.isfinite(knocked).all()


def test_no_host_synchronisation_in_a_profiling_step(images):
    from attnviz.profiles.builder.accumulator import ProfileAccumulator
    from attnviz.profiles.builder.runner import profiling_step

    loaded = load("seresnet50", "cuda")
    views = loaded.preprocess(images)[None]  # (scales=1, N, 3, H, W) on the device
    labels = torch.tensor([0, 1], device="cuda")
    acc = ProfileAccumulator(loaded.gates, 2, 1, loaded.device)
    with profiling_step(loaded, acc, None) as step:
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            step(views, labels)
            step(views, labels)
        finally:
            torch.cuda.set_sync_debug_mode(0)
    assert int(acc.count.sum()) == 4


def test_eight_threads_on_one_cuda_model_give_the_sequential_results(images):
    name = next(iter(sorted(bundled_models())), "skresnext50_32x4d")
    loaded = load(name, "cuda")
    inputs = [[images[i % 2].rotate(15 * i)] for i in range(8)]
    expected = [analyse_images(loaded, x) for x in inputs]
    barrier = threading.Barrier(8)
    got: dict[int, list] = {i: [] for i in range(8)}
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait()
            for _ in range(5):
                got[i].append(analyse_images(loaded, inputs[i]))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for i, runs in got.items():
        for [result] in runs:
            [want] = expected[i]
            assert abs(result.probs - want.probs).max() < 1e-5
            for gate, values in want.values.items():
                assert abs(result.values[gate] - values).max() < 1e-5
    assert not has_hooks(loaded.model)


def test_a_thousand_captures_leave_allocated_memory_flat_and_no_hooks(images):
    loaded = load(next(iter(sorted(bundled_models())), "seresnet50"), "cuda")
    batch = loaded.preprocess(images[:1])

    def once() -> None:
        with torch.inference_mode(), AttentionCapture(loaded.model, loaded.gates) as cap:
            loaded.model(batch)
        cap.result().cpu()

    for _ in range(10):  # warm-up: cuDNN workspaces, the allocator's first blocks
        once()
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    for _ in range(1000):
        once()
    torch.cuda.synchronize()
    after = torch.cuda.memory_allocated()
    # One capture's values are kilobytes (a bundled model: 8 gates x <= 512 floats), so 1,000
    # kept by mistake would pass 1 MiB.
    assert after - before < 1 << 20, (before, after)
    assert not has_hooks(loaded.model)


def test_a_gpu_number_beyond_the_machines_is_a_clear_error():
    from attnviz.runtime.devices import resolve_device
    from attnviz.errors import AttnvizError

    assert resolve_device("cuda:0") == torch.device("cuda:0")
    with pytest.raises(AttnvizError, match="numbered from 0"):
        resolve_device(f"cuda:{torch.cuda.device_count()}")


def test_the_app_pages_run_on_the_gpu_and_name_it(samples_dir, monkeypatch):
    """Explore, Compare classes, Scale experiment and Attribution with the shipped models, the
    device 'auto' (CUDA here); the sidebar names the GPU."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    shipped = sorted(bundled_models())
    if not shipped:
        pytest.skip("no bundled model in assets/models")
    root = Path(__file__).resolve().parent.parent
    monkeypatch.delenv("ATTNVIZ_ASSETS", raising=False)
    monkeypatch.setenv("ATTNVIZ_SAMPLES", str(samples_dir))
    gpu_name = torch.cuda.get_device_name(0)
    at = AppTest.from_file(str(root / "app.py"), default_timeout=300).run()
    pages = {"explore": "Top-5", "compare": None, "scale": None, "attribution": "Grad-CAM"}
    for name in shipped:
        at.sidebar.selectbox(key="model").set_value(name)
        at.sidebar.multiselect(key="samples").set_value([str(samples_dir / PHOTOS[0])])
        at.run()
        for page, first_title in pages.items():
            at.switch_page(f"attnviz/app/pages/{page}.py").run()
            assert not at.exception, [e.value for e in at.exception]
            errors = "\n".join(str(e.value) for e in at.error)
            assert "Traceback" not in errors and "Something went wrong" not in errors, errors
            sidebar = "\n".join(str(m.value) for m in at.sidebar.markdown)
            assert f"GPU: {gpu_name}" in sidebar, sidebar
            if first_title:
                import json

                titles = [json.loads(c.proto.spec)["layout"].get("title", {}).get("text", "")
                          for c in at.get("plotly_chart")]
                assert titles and titles[0].startswith(first_title), (page, titles)
