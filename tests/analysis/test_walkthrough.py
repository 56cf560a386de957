"""The learn page's numbers: every step of a gate, checked against the papers' formulas."""
from __future__ import annotations

import threading

import numpy as np
import pytest
import timm
import torch
import torch.nn.functional as F
from timm.models.resnet import BasicBlock, ResNet

from attnviz.capture.attention import has_hooks
from attnviz.errors import AttnvizError
from attnviz.images.loading import load_image
from attnviz.views.kinds import view_of
from attnviz.analysis.walkthrough import StepRecorder, walkthrough
from attnviz.models.zoo import wrap_model
from tiny import CLASS_NAMES, tiny

SMALL = {"input_size": (3, 64, 64), "interpolation": "bicubic", "mean": (0.485, 0.456, 0.406),
         "std": (0.229, 0.224, 0.225), "crop_pct": 1.0, "crop_mode": "center"}


@pytest.fixture(scope="module")
def fish(goldfish):
    return load_image(goldfish)


def _input_of(loaded, path: str, image) -> torch.Tensor:
    """The first input of module ``path`` for ``image``, recorded with a hook of our own."""
    seen = []
    handle = loaded.model.get_submodule(path).register_forward_pre_hook(lambda _m, i: seen.append(i[0].clone()))
    try:
        with torch.no_grad():
            loaded.model(loaded.preprocess([image]))
    finally:
        handle.remove()
    return seen[0][0]


def _bn(x: torch.Tensor, bn: torch.nn.BatchNorm2d) -> torch.Tensor:
    """Eval-mode batch norm of a vector (d,), from the running statistics."""
    return (x - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias


def _close(got: np.ndarray, want: torch.Tensor, atol: float = 1e-5) -> None:
    np.testing.assert_allclose(got, want.detach().numpy(), atol=atol, rtol=1e-4)


def test_se_steps_follow_the_formulas(fish):
    loaded = tiny("se_resnet18_half", size=64)
    w = walkthrough(loaded, fish, "SE_4_2")
    se = loaded.model.layer3[1].se
    u = _input_of(loaded, "layer3.1.se", fish)                         # U: (C, H, W)
    assert w.kind.name == "se" and w.u_shape == tuple(u.shape) and w.u_shape[0] == 128
    _close(w.z, u.mean((1, 2)))                                         # squeeze
    w1, b1 = se.fc1.weight.flatten(1), se.fc1.bias
    w2, b2 = se.fc2.weight.flatten(1), se.fc2.bias
    hidden = torch.relu(w1 @ torch.as_tensor(w.z) + b1)
    _close(w.hidden, hidden)
    _close(w.s, torch.sigmoid(w2 @ hidden + b2))                        # excitation
    assert w.reduction == 16 and w.hidden.shape == (8,) and w.gate_fn == "Sigmoid"
    assert w.checks["z = GAP(u)"] < 1e-5 and w.checks["x~ = s * u"] < 1e-5
    assert w.prediction.label == CLASS_NAMES[w.prediction.index] and 0 < w.prediction.prob <= 1
    assert not hasattr(w, "a") and not hasattr(w, "weights") and not has_hooks(loaded.model)


def test_se_u_is_the_residual_branch_before_the_shortcut_and_the_page_says_why_z_is_negative(fish):
    """u is the SE module's input: the block's bn2 output, before the identity is added and before
    the final ReLU (so z = GAP(u) can be negative); the Learn caption counts the negative z_c."""
    loaded = tiny("se_resnet18_half", size=64)
    block = loaded.model.layer3[1]
    seen = {}

    def keep(name: str, tensor: torch.Tensor) -> None:  # a hook that returns None changes nothing
        seen.setdefault(name, tensor[0].clone())

    hooks = [block.bn2.register_forward_hook(lambda _m, _i, o: keep("bn2", o)),
             block.register_forward_pre_hook(lambda _m, i: keep("block in", i[0])),
             block.register_forward_hook(lambda _m, _i, o: keep("block out", o))]
    try:
        with torch.no_grad():
            loaded.model(loaded.preprocess([fish]))
    finally:
        for h in hooks:
            h.remove()
    w = walkthrough(loaded, fish, "SE_4_2")
    _close(w.u, seen["bn2"])
    # the block adds the identity (layer3.1 has no downsample) to x~ and then applies its ReLU
    _close(seen["block out"].numpy(), torch.relu(torch.as_tensor(w.v) + seen["block in"]), atol=1e-4)
    negative = int((seen["bn2"].mean((1, 2)) < 0).sum())
    reading = view_of(w.kind).tensor_reading(w)
    if negative:
        assert reading.startswith(f"{negative} of the 128 squeeze values z_c are negative")
        assert "before the shortcut is added" in reading
    else:
        assert reading == ""


def test_sk_steps_follow_the_formulas(fish):
    loaded = tiny("sk_resnet18_half", size=64)
    w = walkthrough(loaded, fish, "SK_4_2")
    attn = loaded.model.layer3[1].conv1.attn
    stacked = _input_of(loaded, "layer3.1.conv1.attn", fish)           # (paths, C, H, W)
    assert w.kind.name == "sk" and w.u_shape == tuple(stacked.shape) == (2, 128, 4, 4)
    _close(w.u_paths, stacked.mean((2, 3)))
    _close(w.s_fused, (stacked[0] + stacked[1]).mean((1, 2)))           # fuse: s = GAP(U1 + U2)
    z = torch.relu(_bn(attn.fc_reduce.weight.flatten(1) @ torch.as_tensor(w.s_fused), attn.bn))
    _close(w.z, z)
    assert w.d == 32 and w.z.shape == (32,)
    logits = (attn.fc_select.weight.flatten(1) @ z).reshape(2, 128)     # rows A z and B z
    ab = torch.softmax(logits, dim=0)
    _close(w.a, ab[0])
    _close(w.b, ab[1])
    np.testing.assert_allclose(w.a + w.b, 1, atol=1e-6)
    assert max(w.checks.values()) < 1e-5 and set(w.checks) == {"s = GAP(U1 + U2)", "a + b = 1", "V = a U1 + b U2"}
    assert not has_hooks(loaded.model)


def test_split_attention_steps_follow_the_formulas(fish):
    loaded = tiny("resnest_half", size=64)
    w = walkthrough(loaded, fish, "SPLAT_4_1")
    splat = loaded.model.layer3[0].conv2
    assert w.kind.name == "splat" and w.radix == 2 and w.u_paths.shape == (2, 128) and w.u_shape[:2] == (2, 128)
    _close(w.s_fused, torch.as_tensor(w.u_paths).sum(0))                # GAP of the sum = sum of GAPs
    z = torch.relu(_bn(splat.fc1.weight.flatten(1) @ torch.as_tensor(w.s_fused) + splat.fc1.bias, splat.bn1))
    _close(w.z, z)
    logits = (splat.fc2.weight.flatten(1) @ z + splat.fc2.bias).reshape(2, 128)
    _close(w.weights, torch.softmax(logits, dim=0))
    _close(w.b, torch.softmax(logits, dim=0)[1])
    assert max(w.checks.values()) < 1e-5 and not has_hooks(loaded.model)


def test_legacy_and_hard_sigmoid_se_variants(fish):
    torch.manual_seed(0)
    legacy = wrap_model(timm.create_model("legacy_seresnet18", num_classes=10), "legacy", CLASS_NAMES, SMALL)
    w = walkthrough(legacy, fish, "SE_3_1")
    se = legacy.model.layer2[0].se_module
    hidden = torch.relu(se.fc1.weight.flatten(1) @ torch.as_tensor(w.z) + se.fc1.bias)
    _close(w.s, torch.sigmoid(se.fc2.weight.flatten(1) @ hidden + se.fc2.bias))
    assert w.reduction == 16 and w.checks["x~ = s * u"] < 1e-5

    mobile = wrap_model(timm.create_model("mobilenetv3_small_050", num_classes=10), "mnv3", CLASS_NAMES, SMALL)
    gate = mobile.gates[0]
    w = walkthrough(mobile, fish, gate.name)
    se = mobile.model.get_submodule(gate.module)
    hidden = torch.relu(se.conv_reduce.weight.flatten(1) @ torch.as_tensor(w.z) + se.conv_reduce.bias)
    _close(w.hidden, hidden)
    _close(w.s, F.hardsigmoid(se.conv_expand.weight.flatten(1) @ hidden + se.conv_expand.bias))
    assert w.gate_fn == "Hardsigmoid" and w.checks["z = GAP(u)"] < 1e-5


def test_unknown_gates_and_uncovered_variants_are_refused_clearly(fish):
    from functools import partial

    from timm.layers import SEModule

    se = wrap_model(ResNet(BasicBlock, [1, 1, 1, 1], num_classes=10,
                           block_args=dict(attn_layer=partial(SEModule, add_maxpool=True))),
                    "se-maxpool", CLASS_NAMES, SMALL)
    with pytest.raises(AttnvizError, match="SE_2_1 mixes max pooling into its squeeze"):
        walkthrough(se, fish, "SE_2_1")
    with pytest.raises(AttnvizError, match="no gate 'SE_9_1'; its gates are SE_2_1"):
        walkthrough(se, fish, "SE_9_1")
    assert not has_hooks(se.model)


def test_recorder_ignores_other_threads_and_removes_its_hooks():
    loaded = tiny("se_resnet18_half", size=64)
    x = torch.zeros(1, 3, 64, 64)
    with torch.no_grad(), StepRecorder(loaded.model, [("layer1.0.se", "out")]) as rec:
        other = threading.Thread(target=lambda: loaded.model(x))
        other.start()
        other.join()
        assert rec.recorded == {}            # another thread's forward pass is not ours
        loaded.model(x)
        assert rec.recorded[("layer1.0.se", "out")].shape == (1, 32, 16, 16)
    assert not has_hooks(loaded.model)
