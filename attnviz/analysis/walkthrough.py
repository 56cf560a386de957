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

What each kind records and computes lives in its own file (``attnviz/gates/<kind>.py``);
``walkthrough`` records the inputs and outputs of the attention module's own submodules with
forward hooks that a context manager owns (registered on entry, always removed on exit) and that,
like ``attnviz.capture.attention``, record only the forward pass of the thread that opened them.
"""
from __future__ import annotations

import torch
import torch.nn as nn
from PIL import Image

from ..errors import AttnvizError
from ..gates import Walkthrough, WalkthroughNotCovered
from ..capture.hooks import ScopedHooks
from ..models.zoo import LoadedModel
from .inference import TopClass

__all__ = ["StepRecorder", "Walkthrough", "walkthrough"]


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
                self._add_hook(module, lambda _m, inp, k=key: self._keep(k, inp[0]), pre=True)
            else:
                self._add_hook(module, lambda _m, _inp, out, k=key: self._keep(k, out))


def walkthrough(loaded: LoadedModel, image: Image.Image, gate_name: str) -> Walkthrough:
    """Run ``image`` through the model and return every step of gate ``gate_name``."""
    gate = loaded.gate(gate_name)  # GateNotFound names the model's gates
    module = loaded.model.get_submodule(gate.module)
    try:
        steps = gate.kind.walkthrough_steps(gate, module)
    except WalkthroughNotCovered as exc:
        from ..views.kinds import view_of  # the kind's words: why its walkthrough does not cover the gate

        raise AttnvizError(view_of(gate.kind).refusal(gate, exc.reason)) from None
    # float32 on purpose (no autocast): the checks compare exact identities
    with torch.inference_mode(), StepRecorder(loaded.model, steps) as recorder:
        logits = loaded.model(loaded.preprocess([image]))
    probs = logits.float().softmax(1)[0].cpu()
    top = int(probs.argmax())
    prediction = TopClass(top, loaded.class_names[top], float(probs[top]))
    rec = {key: t[0] for key, t in recorder.recorded.items()}   # drop the batch dimension
    return gate.kind.walkthrough(gate, module, prediction, rec)
