"""Every intermediate number of one gate for one image, for the learn page.

The papers' steps, recorded from a real forward pass (no recomputation, so what the page shows is
what the network did):

* **SE** (Hu et al.): squeeze z = GAP(u) (C,), excitation s = sigmoid(W2 ReLU(W1 z)) with a
  hidden layer of C/r units, then scale x~_c = s_c u_c.
* **SK** (Li et al.): split U1 (3x3) and U2 (dilated "5x5"), fuse s = GAP(U1 + U2) (C,) and
  z = ReLU(BN(W s)) (d,), select a = softmax(A z), b = softmax(B z) per channel (a + b = 1),
  V = a U1 + b U2.
* **Split attention** (ResNeSt): the same fuse and select across ``radix`` splits of one
  convolution's output, a softmax over the splits per channel (a sigmoid when radix = 1).

``walkthrough`` records the inputs and outputs of the attention module's own submodules with
forward hooks that a context manager owns (registered on entry, always removed on exit) and that,
like ``attnviz.capture``, record only the forward pass of the thread that opened them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

from .errors import AttnvizError
from .gates import Gate
from .hooks import ScopedHooks
from .zoo import LoadedModel

#: SE variants: the submodule fed with z, the one that outputs the hidden layer, the gate.
_SE_STEPS = {
    "se": ("fc1", "act", "gate"),                         # timm SEModule (ResNet, RegNet ...)
    "legacy-se": ("fc1", "relu", "sigmoid"),              # the SENet paper's models in timm
    "effnet-se": ("conv_reduce", "act1", "gate"),         # EfficientNet / MobileNet SqueezeExcite
}


class StepRecorder(ScopedHooks):
    """Context manager recording the first input or output of named submodules of ``model``.

    ``steps`` are (module path, 'in' | 'out') pairs: 'in' records the module's first positional
    input, 'out' its output, into ``recorded[(path, where)]``. Tensors are detached float32
    copies, so later in-place operations (ReLU(inplace=True)) cannot change what was recorded.
    """

    def __init__(self, model: nn.Module, steps: list[tuple[str, str]]) -> None:
        super().__init__(model)
        self.steps = list(steps)
        self.recorded: dict[tuple[str, str], torch.Tensor] = {}

    def _keep(self, key: tuple[str, str], tensor: torch.Tensor) -> None:
        if self.is_active and key not in self.recorded:
            self.recorded[key] = tensor.detach().float().clone()

    def _register_hooks(self) -> None:
        for key in self.steps:
            module = self.model.get_submodule(key[0])
            if key[1] == "in":
                self._add_hook(module, lambda m, inp, k=key: self._keep(k, inp[0]), pre=True)
            else:
                self._add_hook(module, lambda m, inp, out, k=key: self._keep(k, out))


@dataclass
class Walkthrough:
    """One gate's steps for one image (float32 numpy arrays, batch dimension removed).

    Always: gate, kind ('se' | 'sk' | 'splat'), prediction (top-1 index/label/prob), u_shape (the
    gated feature map: (C, H, W) for SE, (paths, C, H, W) for SK and split attention), z, and
    checks (name of an identity -> largest absolute error, measured on this image).

    SE: z (C,) squeeze = GAP(u); hidden (C/r,) after W1 and ReLU; s (C,) excitation;
        reduction r = C / hidden units; gate_fn the squashing function ('Sigmoid', 'Hardsigmoid').
    SK: u_paths (paths, C) GAP of each path; s_fused (C,) = GAP(U1 + U2); z (d,) after fc + BN +
        ReLU; d; weights (paths, C) the softmax; a (C,) = weights[0] (3x3), b (C,) = weights[1].
    Split attention: radix; u_paths (radix, C) GAP of each split; s_fused (C,) GAP of their sum;
        z (d,) after fc1 + BN + ReLU; d; weights (radix, C) the radix softmax (sigmoid when
        radix = 1); a, b the first two splits' weights when radix >= 2.
    """

    gate: Gate
    kind: str
    prediction: dict
    u_shape: tuple[int, ...]
    z: np.ndarray
    checks: dict[str, float] = field(default_factory=dict)
    hidden: np.ndarray | None = None
    s: np.ndarray | None = None
    reduction: float | None = None
    gate_fn: str | None = None
    u_paths: np.ndarray | None = None
    s_fused: np.ndarray | None = None
    d: int | None = None
    weights: np.ndarray | None = None
    a: np.ndarray | None = None
    b: np.ndarray | None = None
    radix: int | None = None

    @property
    def channels(self) -> int:
        return self.gate.channels


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.cpu().numpy().astype(np.float32)


def _max_error(x: torch.Tensor, y: torch.Tensor) -> float:
    return float((x - y).abs().max())


def _steps_for(gate: Gate, module: nn.Module) -> list[tuple[str, str]]:
    """Which submodule inputs and outputs to record for ``gate`` (paths relative to the model)."""
    m = gate.module
    if gate.variant in _SE_STEPS:
        if getattr(module, "add_maxpool", False):
            raise AttnvizError(f"gate {gate.name} mixes max pooling into its squeeze (timm's "
                               "add_maxpool), which the SE walkthrough does not describe; choose "
                               "another gate or model")
        squeeze, hidden, gate_fn = _SE_STEPS[gate.variant]
        return [(m, "in"), (f"{m}.{squeeze}", "in"), (f"{m}.{hidden}", "out"), (f"{m}.{gate_fn}", "out"),
                (m, "out")]
    if gate.kind == "sk":
        selective_kernel = m.rsplit(".", 1)[0]  # its output is V = a U1 + b U2
        return [(m, "in"), (f"{m}.fc_reduce", "in"), (f"{m}.act", "out"), (m, "out"),
                (selective_kernel, "out")]
    if gate.kind == "splat":
        return [(f"{m}.act0", "out"), (f"{m}.fc1", "in"), (f"{m}.act1", "out"), (f"{m}.rsoftmax", "out"),
                (m, "out")]
    raise AttnvizError(
        f"the walkthrough does not cover gate {gate.name} (variant {gate.variant!r}): it follows the "
        "SE paper's two fully connected layers, SKNet's fuse-and-select or ResNeSt's split "
        "attention step by step, and this gate computes its weights differently (e.g. ECA's 1-d "
        "convolution across channels). Choose an SE, SK or split-attention gate.")


def walkthrough(loaded: LoadedModel, image: Image.Image, gate_name: str) -> Walkthrough:
    """Run ``image`` through the model and return every step of gate ``gate_name``."""
    try:
        gate = loaded.gate(gate_name)
    except KeyError:
        raise AttnvizError(f"{loaded.name} has no gate {gate_name!r}; its gates are "
                           f"{', '.join(g.name for g in loaded.gates)}") from None
    module = loaded.model.get_submodule(gate.module)
    steps = _steps_for(gate, module)
    # float32 on purpose (no autocast): the checks compare exact identities
    with torch.inference_mode(), StepRecorder(loaded.model, steps) as recorder:
        logits = loaded.model(loaded.preprocess([image]))
    probs = logits.float().softmax(1)[0].cpu()
    top = int(probs.argmax())
    prediction = {"index": top, "label": loaded.class_names[top], "prob": float(probs[top])}
    rec = {key: t[0] for key, t in recorder.recorded.items()}   # drop the batch dimension
    if gate.kind == "se":
        return _se(gate, module, prediction, rec)
    if gate.kind == "sk":
        return _sk(gate, prediction, rec)
    return _splat(gate, prediction, rec)


def _se(gate: Gate, module: nn.Module, prediction: dict, rec: dict) -> Walkthrough:
    m = gate.module
    squeeze, hidden_step, gate_step = _SE_STEPS[gate.variant]
    u = rec[(m, "in")]                                       # (C, H, W)
    z = rec[(f"{m}.{squeeze}", "in")].flatten()              # what W1 was fed
    hidden = rec[(f"{m}.{hidden_step}", "out")].flatten()
    s = rec[(f"{m}.{gate_step}", "out")].flatten()
    x_tilde = rec[(m, "out")]
    return Walkthrough(
        gate=gate, kind="se", prediction=prediction, u_shape=tuple(u.shape), z=_numpy(z),
        hidden=_numpy(hidden), s=_numpy(s), reduction=u.shape[0] / hidden.numel(),
        gate_fn=type(module.get_submodule(gate_step)).__name__,
        checks={"z = GAP(u)": _max_error(z, u.mean((1, 2))),
                "x~ = s * u": _max_error(x_tilde, s[:, None, None] * u)})


def _sk(gate: Gate, prediction: dict, rec: dict) -> Walkthrough:
    m = gate.module
    paths = rec[(m, "in")]                                   # (P, C, H, W): U1, U2, ...
    weights = rec[(m, "out")].reshape(gate.paths, gate.channels)
    z = rec[(f"{m}.act", "out")].flatten()
    s_fused = paths.sum(0).mean((1, 2))
    v = rec[(m.rsplit(".", 1)[0], "out")]
    return Walkthrough(
        gate=gate, kind="sk", prediction=prediction, u_shape=tuple(paths.shape), z=_numpy(z),
        u_paths=_numpy(paths.mean((2, 3))), s_fused=_numpy(s_fused), d=z.numel(),
        weights=_numpy(weights), a=_numpy(weights[0]), b=_numpy(weights[1]), gate_fn="softmax",
        checks={"s = GAP(U1 + U2)": _max_error(s_fused, rec[(f"{m}.fc_reduce", "in")].flatten()),
                "a + b = 1": _max_error(weights.sum(0), torch.ones_like(weights[0])),
                "V = a U1 + b U2": _max_error(v, (weights[:, :, None, None] * paths).sum(0))})


def _splat(gate: Gate, prediction: dict, rec: dict) -> Walkthrough:
    m, radix, channels = gate.module, gate.paths, gate.channels
    conv_out = rec[(f"{m}.act0", "out")]                     # (radix * C, H, W), radix-major
    splits = conv_out.reshape(radix, channels, *conv_out.shape[-2:])
    weights = rec[(f"{m}.rsoftmax", "out")].reshape(radix, channels)
    z = rec[(f"{m}.act1", "out")].flatten()
    s_fused = splits.sum(0).mean((1, 2))
    checks = {"s = GAP(sum of splits)": _max_error(s_fused, rec[(f"{m}.fc1", "in")].flatten()),
              "V = sum_r w_r U_r": _max_error(rec[(m, "out")], (weights[:, :, None, None] * splits).sum(0))}
    if radix > 1:
        checks["sum_r w_r = 1"] = _max_error(weights.sum(0), torch.ones_like(weights[0]))
    return Walkthrough(
        gate=gate, kind="splat", prediction=prediction, u_shape=tuple(splits.shape), z=_numpy(z),
        u_paths=_numpy(splits.mean((2, 3))), s_fused=_numpy(s_fused), d=z.numel(),
        weights=_numpy(weights), a=_numpy(weights[0]) if radix > 1 else None,
        b=_numpy(weights[1]) if radix > 1 else None, radix=radix,
        gate_fn="softmax" if radix > 1 else "sigmoid", checks=checks)
