"""attnviz.analysis.inference on its own: predictions and gate values of images, checked against the model
run directly (no capture) and against plain torch forward hooks written here, batch by batch."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from attnviz.capture.attention import has_hooks
from attnviz.images.loading import load_image
from attnviz.analysis.inference import ImageAnalysis, TopClass, analyse_images, forward_with_capture
from tiny import CLASS_NAMES, tiny


@pytest.fixture(scope="module")
def images(samples_dir):
    return [load_image(f) for f in sorted(samples_dir.glob("*.JPEG"))[:5]]


@pytest.fixture(scope="module", params=["se_resnet18_half", "sk_resnet18_half"])
def model(request):
    return tiny(request.param, size=64)


def _direct(loaded, images):
    """Softmax of the plain model on the preprocessed batch, and each gate module's raw output
    recorded by torch forward hooks registered here (then removed)."""
    batch = loaded.preprocess(images)
    outputs: dict[str, torch.Tensor] = {}
    modules = dict(loaded.model.named_modules())
    handles = [modules[g.source].register_forward_hook(
        lambda _m, _i, out, name=g.name: outputs.__setitem__(name, out.detach().float())) for g in loaded.gates]
    try:
        with torch.inference_mode():
            logits = loaded.model(batch).float()
    finally:
        for handle in handles:
            handle.remove()
    values = {g.name: outputs[g.name].reshape(len(images), g.paths, -1).numpy() for g in loaded.gates}
    return torch.softmax(logits, dim=1).numpy(), values


def test_probabilities_and_values_are_the_models_own(model, images):
    probs, values = _direct(model, images)
    analyses = analyse_images(model, images)
    assert [a.name for a in analyses] == [f"image {i + 1}" for i in range(len(images))]
    for i, analysis in enumerate(analyses):
        np.testing.assert_allclose(analysis.probs, probs[i], rtol=1e-5, atol=1e-7)
        assert analysis.probs.sum() == pytest.approx(1.0, abs=1e-5)
        assert set(analysis.values) == {g.name for g in model.gates}
        for gate in model.gates:
            assert analysis.values[gate.name].shape == (gate.paths, gate.channels)
            np.testing.assert_allclose(analysis.values[gate.name], values[gate.name][i], rtol=1e-5, atol=1e-7)
    assert not has_hooks(model.model)


def test_batches_give_the_same_results_in_the_same_order(model, images):
    whole = analyse_images(model, images, names=list("abcde"))
    split = analyse_images(model, images, names=list("abcde"), batch_size=2)   # 2 + 2 + 1
    assert [a.name for a in split] == list("abcde")
    for one, other in zip(whole, split, strict=True):
        np.testing.assert_allclose(one.probs, other.probs, rtol=1e-5, atol=1e-7)
        for gate in model.gates:
            np.testing.assert_allclose(one.values[gate.name], other.values[gate.name], rtol=1e-5, atol=1e-7)
    # each image alone: batching does not mix images
    alone = analyse_images(model, images[3:4])[0]
    np.testing.assert_allclose(alone.probs, whole[3].probs, rtol=1e-5, atol=1e-7)


def test_top_is_the_k_most_probable_classes(model, images):
    [analysis] = analyse_images(model, images[:1])
    order = sorted(range(len(CLASS_NAMES)), key=lambda k: -analysis.probs[k])[:3]
    assert analysis.top(CLASS_NAMES, k=3) == [TopClass(k, CLASS_NAMES[k], float(analysis.probs[k])) for k in order]


def test_top_of_hand_made_probabilities():
    names = ["ant", "bee", "cat", "dog", "eel"]
    probs = np.array([0.05, 0.40, 0.10, 0.30, 0.15], dtype=np.float32)
    analysis = ImageAnalysis(name="hand", probs=probs, values={})
    top = analysis.top(names, k=3)
    assert [(t.index, t.label) for t in top] == [(1, "bee"), (3, "dog"), (4, "eel")]
    assert [t.prob for t in top] == pytest.approx([0.40, 0.30, 0.15])
    assert all(type(t) is TopClass and type(t.index) is int and type(t.prob) is float for t in top)
    assert analysis.top(names, k=1) == [TopClass(1, "bee", pytest.approx(0.40))]
    assert [t.label for t in analysis.top(names)] == ["bee", "dog", "eel", "cat", "ant"]   # k = 5 by default
    assert dataclasses.asdict(top[0]) == {"index": 1, "label": "bee", "prob": pytest.approx(0.40)}


def test_a_top_class_cannot_be_changed():
    top = TopClass(2, "cat", 0.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        top.prob = 0.9                                          # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        top.label = "dog"                                       # type: ignore[misc]
    assert top == TopClass(index=2, label="cat", prob=0.5)


def test_a_knocked_out_gate_changes_the_prediction_not_its_recorded_value(model, images):
    gate = model.gates[len(model.gates) // 2]
    batch = model.preprocess(images[:2])
    plain_probs, plain = forward_with_capture(model, batch)
    probs, captured = forward_with_capture(model, batch, neutralise=[gate.name])
    torch.testing.assert_close(captured[gate.name], plain[gate.name])        # recorded before the knock-out
    assert (probs - plain_probs).abs().max() > 1e-6                         # ...which the output feels
    knocked = analyse_images(model, images[:2], neutralise=[gate.name])
    np.testing.assert_allclose(np.stack([a.probs for a in knocked]), probs.numpy(), rtol=1e-5, atol=1e-7)
    assert not has_hooks(model.model)
