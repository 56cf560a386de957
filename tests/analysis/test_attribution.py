"""Attribution around a gate: Grad-CAM, channel attribution and knock-out, checked by hand."""
from __future__ import annotations

import copy
import threading

import numpy as np
import pytest
import timm
import torch
import torch.nn.functional as F
from PIL import Image
from scipy.stats import spearmanr

from attnviz.analysis.attribution import channel_attribution, gradcam, gradcam_layer, gated_layer, knockout
from attnviz.capture.attention import has_hooks
from attnviz.errors import AttnvizError
from attnviz.gates import discover_gates
from attnviz.images.loading import load_image
from attnviz.analysis.inference import analyse_images
from tiny import tiny


@pytest.fixture(scope="module")
def se_model():
    return tiny("se_resnet18_half", size=64)


@pytest.fixture(scope="module")
def sk_model():
    return tiny("sk_resnet18_half", size=64)


@pytest.fixture(scope="module")
def fish(goldfish):
    return load_image(goldfish)


def _clean(loaded) -> None:
    assert not has_hooks(loaded.model)
    assert all(p.grad is None for p in loaded.model.parameters())


def _by_hand(loaded, image, layer: str, target: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Activation and gradient of the target logit at ``layer``'s output, on a private copy."""
    model = copy.deepcopy(loaded.model)
    saved = {}
    model.get_submodule(layer).register_forward_hook(lambda _m, _i, o: saved.setdefault("a", o))
    # the block's output is later modified in place (x += shortcut): keep a clone in the graph
    handle = model.get_submodule(layer).register_forward_hook(lambda _m, _i, o: o.clone())
    logits = model(loaded.preprocess([image]))
    handle.remove()
    act = saved["a"]
    [grad] = torch.autograd.grad(logits[0, target], act)
    return act.detach()[0], grad[0]


# ---------------------------------------------------------------- layers


def test_gradcam_layer_is_the_block_of_the_gate():
    with torch.device("meta"):
        effnet = timm.create_model("efficientnet_b0")
        regnet = timm.create_model("regnety_016")
    e = discover_gates(effnet)[1]
    r = discover_gates(regnet)[0]
    assert (e.module, gradcam_layer(effnet, e)) == ("blocks.1.0.se", "blocks.1.0")
    assert (r.module, gradcam_layer(regnet, r)) == ("s1.b1.se", "s1.b1")


def test_gated_layer_is_the_module_that_outputs_the_weighted_features(sk_model, se_model):
    assert gated_layer(sk_model.gate("SK_4_2")) == "layer3.1.conv1"
    assert gated_layer(se_model.gate("SE_4_2")) == "layer3.1.se"


# ---------------------------------------------------------------- Grad-CAM


def test_gradcam_matches_the_formula(se_model, fish):
    result = gradcam(se_model, fish, "SE_4_2")
    [analysis] = analyse_images(se_model, [fish])
    assert result.target == int(np.argmax(analysis.probs)) and result.label == f"class {result.target}"
    assert result.layer == "layer3.1" and result.prob == pytest.approx(analysis.probs[result.target])
    assert result.heatmap.shape == (64, 64) and result.input_image.size == (64, 64)
    assert result.heatmap.min() >= 0 and result.heatmap.max() == pytest.approx(1.0)

    # Grad-CAM: ReLU(sum_k mean(dy/dA_k) A_k), upsampled, scaled to a maximum of 1
    act, grad = _by_hand(se_model, fish, "layer3.1", result.target)
    cam = F.relu((grad.mean(dim=(1, 2), keepdim=True) * act).sum(0))
    cam = F.interpolate(cam[None, None], size=(64, 64), mode="bilinear")[0, 0].numpy()
    np.testing.assert_allclose(result.heatmap, cam / cam.max(), atol=1e-4)
    _clean(se_model)


def test_gradcam_changes_with_the_target_and_leaves_the_model_as_found(sk_model, fish):
    frozen = sk_model.model.fc.weight
    frozen.requires_grad_(False)
    try:
        with torch.inference_mode():  # a caller in inference mode still gets gradients
            maps = [gradcam(sk_model, fish, "SK_4_1", target=t).heatmap for t in (0, 5)]
    finally:
        frozen.requires_grad_(True)
    assert not np.allclose(maps[0], maps[1], atol=1e-3)
    assert frozen.requires_grad and all(p.requires_grad for p in sk_model.model.parameters())
    assert not sk_model.model.training
    _clean(sk_model)


def test_input_image_is_the_preprocessed_photo(se_model, fish):
    square = fish.resize((128, 128))   # square, so the centre crop is the whole image
    shown = np.asarray(gradcam(se_model, square, "SE_2_1").input_image).astype(int)
    expected = np.asarray(square.resize((64, 64), Image.Resampling.BICUBIC)).astype(int)
    assert np.abs(shown - expected).mean() < 2   # de-normalised back to 0..255 pixels


def test_bad_gate_and_target_are_clear_errors(se_model, fish):
    with pytest.raises(AttnvizError, match="no gate 'SK_4_2'.*SE_2_1"):
        gradcam(se_model, fish, "SK_4_2")
    with pytest.raises(AttnvizError, match="target class 10 is out of range.*0..9"):
        channel_attribution(se_model, fish, "SE_2_1", target=10)


# ---------------------------------------------------------------- channel attribution


def test_channel_attribution_is_gradient_times_activation(sk_model, fish):
    result = channel_attribution(sk_model, fish, "SK_4_2", target=3)
    [analysis] = analyse_images(sk_model, [fish])
    b, a = analysis.values["SK_4_2"][1], analysis.values["SK_4_2"][0]
    assert result.attribution.shape == (128,) and result.layer == "layer3.1.conv1"
    np.testing.assert_allclose(result.excitation, b, atol=1e-6)
    np.testing.assert_allclose(result.a, a, atol=1e-6)
    act, grad = _by_hand(sk_model, fish, "layer3.1.conv1", 3)
    np.testing.assert_allclose(result.attribution, (act * grad).sum(dim=(1, 2)).numpy(), rtol=1e-4, atol=1e-6)
    assert result.spearman == pytest.approx(spearmanr(result.attribution, b).statistic)
    assert -1 <= result.spearman <= 1
    _clean(sk_model)


def test_channel_attribution_of_an_se_gate(se_model, fish):
    result = channel_attribution(se_model, fish, "SE_3_2")
    [analysis] = analyse_images(se_model, [fish])
    assert result.a is None and result.target == int(np.argmax(analysis.probs))
    np.testing.assert_allclose(result.excitation, analysis.values["SE_3_2"][0], atol=1e-6)
    assert np.abs(result.attribution).sum() > 0 and np.isfinite(result.spearman)


# ---------------------------------------------------------------- knock-out


def test_knockout_of_an_se_gate_equals_removing_it(se_model, fish):
    result = knockout(se_model, fish, ["SE_4_2"], k=3)
    [analysis] = analyse_images(se_model, [fish])
    assert result.before == analysis.top(se_model.class_names, 3)
    # s = 1 everywhere is the block without its SE module
    without = copy.deepcopy(se_model.model)
    without.layer3[1].se = torch.nn.Identity()
    with torch.no_grad():
        probs = without(se_model.preprocess([fish])).softmax(1)[0].numpy()
    assert [r.index for r in result.after] == list(np.argsort(-probs)[:3])
    np.testing.assert_allclose([r.prob for r in result.after], np.sort(probs)[::-1][:3], atol=1e-5)
    top1 = result.before[0].index
    assert result.prob_change == pytest.approx(probs[top1] - result.before[0].prob, abs=1e-5)
    assert result.prob_change != pytest.approx(0, abs=1e-6)
    _clean(se_model)


def test_knockout_of_an_sk_gate_averages_the_paths(sk_model, fish):
    result = knockout(sk_model, fish, "SK_3_1", k=10)
    assert result.gates == ["SK_3_1"] and len(result.after) == 10
    assert sum(r.prob for r in result.after) == pytest.approx(1.0, abs=1e-5)
    assert result.before != result.after
    _clean(sk_model)
    with pytest.raises(AttnvizError, match="no gate 'SE_9_9'"):
        knockout(sk_model, fish, ["SE_9_9"])


# ---------------------------------------------------------------- threads


def test_attribution_and_analysis_in_threads_do_not_disturb_each_other(sk_model, fish):
    expected_cam = gradcam(sk_model, fish, "SK_5_1", target=2).heatmap
    [expected] = analyse_images(sk_model, [fish])
    errors, cams, probs = [], [], []

    def attribute():
        try:
            for _ in range(3):
                cams.append(gradcam(sk_model, fish, "SK_5_1", target=2).heatmap)
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    def analyse():
        try:
            for _ in range(6):
                probs.append(analyse_images(sk_model, [fish])[0].probs)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=attribute), threading.Thread(target=attribute),
               threading.Thread(target=analyse)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for cam in cams:
        np.testing.assert_allclose(cam, expected_cam, atol=1e-5)
    for p in probs:
        np.testing.assert_allclose(p, expected.probs, atol=1e-6)
    _clean(sk_model)
