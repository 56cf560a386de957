"""Squeeze-and-Excitation (Hu et al., 2018): s = sigmoid(W2 ReLU(W1 z)), x~_c = s_c u_c.

Registered: timm's ``SEModule`` (ResNet/RegNet family), ``EffectiveSEModule``,
``SqueezeExciteCl``, the EfficientNet/MobileNet ``SqueezeExcite`` (sigmoid or hard-sigmoid gate)
and the original SENet ``SEModule`` of timm's legacy models.
"""
from __future__ import annotations

import torch
import torch.nn as nn
from timm.layers.squeeze_excite import EffectiveSEModule, SEModule, SqueezeExciteCl
from timm.models.efficientnet import SqueezeExcite as EffNetSqueezeExcite
from timm.models.senet import SEModule as LegacySEModule

from ..errors import AttnvizError
from ..i18n import _, N_
from .kind import ChannelGateKind, Panel, StepKey, Walkthrough, as_numpy, max_error
from .registry import GateType, register_gate

#: Per variant: the submodule fed with z, the one that outputs the hidden layer, the gate.
_STEPS = {
    "se": ("fc1", "act", "gate"),                         # timm SEModule (ResNet, RegNet ...)
    "legacy-se": ("fc1", "relu", "sigmoid"),              # the SENet paper's models in timm
    "effnet-se": ("conv_reduce", "act1", "gate"),         # EfficientNet / MobileNet SqueezeExcite
}

TEXT = N_(r"""
**Squeeze-and-Excitation** (Hu et al., 2018) lets a block *re-weight its own channels* using
information from the whole image. For the block's feature map $\mathbf{u}$ with $C$ channels of
size $H \times W$:

1. **Squeeze** — average each channel over all positions (global average pooling):
   $z_c = \frac{1}{H W} \sum_{i=1}^{H} \sum_{j=1}^{W} u_c(i, j)$
2. **Excitation** — a small two-layer network (bottleneck with reduction ratio $r$) turns the
   vector $\mathbf{z}$ into one weight per channel between 0 and 1:
   $\mathbf{s} = \sigma\big(\mathbf{W}_2\, \delta(\mathbf{W}_1 \mathbf{z})\big)$, with
   $\mathbf{W}_1 \in \mathbb{R}^{\frac{C}{r} \times C}$, $\mathbf{W}_2 \in \mathbb{R}^{C \times \frac{C}{r}}$,
   $\delta$ = ReLU, $\sigma$ = sigmoid.
3. **Scale** — multiply each channel by its weight: $\tilde{x}_c = s_c \cdot u_c$.

$s_c$ near 1 lets channel $c$ through; near 0 suppresses it. Because $\mathbf{s}$ depends on the
image, the same block can emphasise different channels for different images — the *excitation*
this app shows.
""")

#: Under the formulas: which tensor the live example starts from, and the SENet paper's letters.
NOTES = (
    N_(r"""**Which tensor the live example shows.** In an SE-ResNet (the SENet paper's SE-ResNet module,
and the SE models here) the SE block recalibrates the residual branch: $\mathbf{u}$ is that branch's
output (its last convolution and batch norm), taken *before* the identity shortcut is added and
before the block's final ReLU. So $\mathbf{u}$ can be negative, and so can $z_c = \mathrm{GAP}(u_c)$;
$s_c$ is still between 0 and 1."""),
    N_(r"""**The letters are the SENet paper's:** $\mathbf{u}$ the feature map, $\mathbf{z}$ the squeezed
channel descriptor, $\mathbf{s}$ the excitation (the channel weights), $\tilde{\mathbf{x}}$ the
scaled output. The SKNet paper uses $\mathbf{s}$ and $\mathbf{z}$ for other things (see the
Selective Kernel explanation)."""),
)


class SqueezeExcitation(ChannelGateKind):
    name = "se"
    title = N_("Squeeze-and-Excitation")
    prefix = "SE"
    paper = "Hu et al., 2018"
    learn_text = TEXT
    learn_notes = NOTES

    def walkthrough_steps(self, gate, module: nn.Module) -> list[StepKey]:
        if gate.variant not in _STEPS:
            raise AttnvizError(self._no_walkthrough(gate))
        if getattr(module, "add_maxpool", False):
            raise AttnvizError(_("gate {gate} mixes max pooling into its squeeze (timm's "
                                 "add_maxpool), which the SE walkthrough does not describe; choose "
                                 "another gate or model").format(gate=gate.name))
        m = gate.module
        squeeze, hidden, gate_fn = _STEPS[gate.variant]
        return [(m, "in"), (f"{m}.{squeeze}", "in"), (f"{m}.{hidden}", "out"), (f"{m}.{gate_fn}", "out"),
                (m, "out")]

    def walkthrough(self, gate, module: nn.Module, prediction: dict, rec: dict[StepKey, torch.Tensor]) -> Walkthrough:
        m = gate.module
        squeeze, hidden_step, gate_step = _STEPS[gate.variant]
        u = rec[(m, "in")]                                       # (C, H, W)
        z = rec[(f"{m}.{squeeze}", "in")].flatten()              # what W1 was fed
        hidden = rec[(f"{m}.{hidden_step}", "out")].flatten()
        s = rec[(f"{m}.{gate_step}", "out")].flatten()
        x_tilde = rec[(m, "out")]
        return Walkthrough(
            gate=gate, kind=self, prediction=prediction, u_shape=tuple(u.shape), z=as_numpy(z),
            hidden=as_numpy(hidden), s=as_numpy(s), reduction=u.shape[0] / hidden.numel(),
            gate_fn=type(module.get_submodule(gate_step)).__name__, u=as_numpy(u), v=as_numpy(x_tilde),
            checks={"z = GAP(u)": max_error(z, u.mean((1, 2))),
                    "x~ = s * u": max_error(x_tilde, s[:, None, None] * u)})

    def walkthrough_panels(self, w: Walkthrough) -> list[Panel]:
        return [(_("1. squeeze: z = GAP(u), one value per channel"), [("z", w.z)]),
                (_("2a. bottleneck: δ(W₁ z), {units} hidden units (r = {r:g})").format(units=len(w.hidden), r=w.reduction),
                 [(_("hidden"), w.hidden)]),
                (_("2b. excitation: s = σ(W₂ · hidden), one weight per channel"), [("s", w.s)]),
                (_("3. scale: x̃_c = s_c · u_c (mean of each channel before and after)"),
                 [(_("mean of {name}").format(name="u"), w.z), (_("mean of {name}").format(name="x̃"), w.v.mean((1, 2)))])]

    def live_numbers(self, w: Walkthrough, channel: int) -> list[tuple[str, str, str]]:
        rows = self.squeeze_excite_rows(w, channel)
        return rows[:1] + [("r", _("reduction ratio of the bottleneck"), f"{w.reduction:g}")] + rows[1:]


SE = SqueezeExcitation()

register_gate(SEModule, GateType(
    SE, "se", source=lambda m: m.gate, channels=lambda m: m.fc2.out_channels))
register_gate(EffectiveSEModule, GateType(
    SE, "effective-se", source=lambda m: m.gate, channels=lambda m: m.fc.out_channels))
register_gate(SqueezeExciteCl, GateType(
    SE, "se-channels-last", source=lambda m: m.gate, channels=lambda m: m.fc2.out_features))
register_gate(EffNetSqueezeExcite, GateType(
    SE, "effnet-se", source=lambda m: m.gate, channels=lambda m: m.conv_expand.out_channels))
register_gate(LegacySEModule, GateType(
    SE, "legacy-se", source=lambda m: m.sigmoid, channels=lambda m: m.fc2.out_channels))
