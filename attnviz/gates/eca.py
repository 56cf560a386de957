"""Efficient Channel Attention (Wang et al., 2020): s = sigmoid(conv1d_k(z)), x~_c = s_c u_c.

ECA keeps SE's squeeze and scale but replaces the two fully connected layers by one 1-d
convolution of kernel size k across neighbouring channels (no reduction, k weights in all).
Registered: timm's ``EcaModule`` and ``CecaModule`` (circular padding across the channels).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
from timm.layers.eca import CecaModule, EcaModule

from ..errors import AttnvizError
from ..i18n import _, N_
from .kind import ChannelGateKind, Panel, StepKey, Walkthrough, as_numpy, max_error
from .registry import GateType, register_gate

TEXT = N_(r"""
**Efficient Channel Attention** (ECA, Wang et al., 2020) keeps SE's squeeze and scale and drops
its bottleneck: each channel's weight is computed from its $k$ neighbours only.

1. **Squeeze** — $z_c = \frac{1}{HW} \sum_{i,j} u_c(i, j)$, as in SE.
2. **Local cross-channel interaction** — one 1-d convolution with kernel size $k$ slides over
   the channel axis: $\mathbf{s} = \sigma\big(\mathrm{conv1d}_k(\mathbf{z})\big)$; $k$ grows
   with $\log_2 C$ (3, 5 or 7 in ResNets), so the gate has only $k$ weights instead of SE's
   $2C^2/r$.
3. **Scale** — $\tilde{x}_c = s_c \cdot u_c$.

No dimensionality reduction: the paper argues that SE's bottleneck hurts the mapping from
channels to their weights, and a few neighbours are enough.
""")


class EfficientChannelAttention(ChannelGateKind):
    name = "eca"
    title = N_("Efficient Channel Attention")
    prefix = "ECA"
    paper = "Wang et al., 2020"
    learn_text = TEXT

    def summary(self, values: np.ndarray) -> dict:
        s = np.asarray(values, dtype=np.float64).reshape(-1)
        # how far neighbouring channels agree: ECA's weights come from a k-wide window of z
        smooth = float(np.corrcoef(s[:-1], s[1:])[0, 1]) if s.size > 2 and s.std() > 0 else float("nan")
        return {**super().summary(values), "neighbour_correlation": smooth}

    def walkthrough_steps(self, gate, module: nn.Module) -> list[StepKey]:
        if getattr(module, "conv2", None) is not None:
            raise AttnvizError(_("gate {gate} uses timm's experimental two-layer ECA (use_mlp), which "
                                 "the ECA walkthrough does not describe; choose another gate or model").format(
                gate=gate.name))
        m = gate.module
        return [(m, "in"), (f"{m}.conv", "out"), (f"{m}.gate", "out"), (m, "out")]

    def walkthrough(self, gate, module: nn.Module, prediction: dict, rec: dict[StepKey, torch.Tensor]) -> Walkthrough:
        m = gate.module
        u = rec[(m, "in")]                                       # (C, H, W)
        z = u.mean((1, 2))
        conv = rec[(f"{m}.conv", "out")].flatten()
        s = rec[(f"{m}.gate", "out")].flatten()
        x_tilde = rec[(m, "out")]
        weight = module.conv.weight.detach().float().flatten().cpu()
        k = weight.numel()
        pad = (k - 1) // 2
        padded = torch.cat([z[-pad:], z, z[:pad]]) if isinstance(module, CecaModule) else \
            torch.nn.functional.pad(z, (pad, pad))
        by_hand = torch.stack([(padded[c:c + k] * weight.to(z.device)).sum() for c in range(z.numel())])
        return Walkthrough(
            gate=gate, kind=self, prediction=prediction, u_shape=tuple(u.shape), z=as_numpy(z),
            conv=as_numpy(conv), s=as_numpy(s), kernel_size=k, gate_fn=type(module.gate).__name__,
            u=as_numpy(u), v=as_numpy(x_tilde),
            checks={"conv = conv1d_k(z)": max_error(conv, by_hand),
                    "x~ = s * u": max_error(x_tilde, s[:, None, None] * u)})

    def walkthrough_panels(self, w: Walkthrough) -> list[Panel]:
        return [(_("1. squeeze: z = GAP(u), one value per channel"), [("z", w.z)]),
                (_("2a. 1-d convolution across channels, kernel k = {k}").format(k=w.kernel_size), [("conv1d(z)", w.conv)]),
                (_("2b. excitation: s = σ(conv1d(z)), one weight per channel"), [("s", w.s)]),
                (_("3. scale: x̃_c = s_c · u_c (mean of each channel before and after)"),
                 [(_("mean of {name}").format(name="u"), w.z), (_("mean of {name}").format(name="x̃"), w.v.mean((1, 2)))])]

    def live_numbers(self, w: Walkthrough, channel: int) -> list[tuple[str, str, str]]:
        rows = self.squeeze_excite_rows(w, channel)
        return rows[:1] + [("k", _("kernel size of the 1-d convolution"), str(w.kernel_size))] + rows[1:]


ECA = EfficientChannelAttention()


def _eca_channels(module) -> int | None:
    # ECA has no channel-sized layer and timm does not keep the count it was built for, so
    # discovery measures it with one small forward pass (None = "ask the probe").
    return None


register_gate(EcaModule, GateType(ECA, "eca", source=lambda m: m.gate, channels=_eca_channels))
register_gate(CecaModule, GateType(ECA, "ceca", source=lambda m: m.gate, channels=_eca_channels))
