"""ResNeSt split attention (Zhang et al., 2020): a softmax across the radix splits (a sigmoid when
radix = 1).

The gate lives in ``SplitAttn.rsoftmax`` (timm's ``RadixSoftmax``), whose output (B, radix * C)
is laid out radix-major after its transpose, so it reshapes to (B, radix, C) in the channel order
of the block's output. Radix 1 is an SE-like sigmoid gate, radix 2 a softmax over two splits in SK's form (but with one
kernel size for every split: no choice of receptive field).
"""
from __future__ import annotations

import torch
import torch.nn as nn
from timm.layers.split_attn import SplitAttn

from ..i18n import _, N_
from .kind import SelectionKind, StepKey, Walkthrough, as_numpy, max_error
from .registry import GateType, register_gate

TEXT = N_(r"""
**Split attention** (ResNeSt, Zhang et al., 2020) generalises SK to $R$ feature-map *splits*
(the radix) inside each group:

1. **Split** — $R$ convolutions give $\mathbf{U}_1, \dots, \mathbf{U}_R$.
2. **Fuse** — $\hat{\mathbf{U}} = \sum_r \mathbf{U}_r$, $s_c = \frac{1}{HW}\sum_{i,j} \hat{U}_c(i,j)$,
   then a small network $\mathcal{G}$ (dense, batch norm, ReLU, dense) maps $\mathbf{s}$ to scores.
3. **r-Softmax** — per channel, a softmax across the splits:
   $a_r(c) = \frac{\exp(\mathcal{G}^c_r(\mathbf{s}))}{\sum_{j=1}^{R} \exp(\mathcal{G}^c_j(\mathbf{s}))}$
   (a sigmoid when $R = 1$), and $\mathbf{V}_c = \sum_r a_r(c)\, \mathbf{U}_{r,c}$.

With $R = 2$ the selection has SK's form, a softmax over two branches per channel, but every split
is convolved with the same kernel size and dilation: it weighs two feature maps of the same receptive
field, not a small and a large one, so it is no choice of receptive field.
""")


class SplitAttention(SelectionKind):
    name = "splat"
    title = N_("Split attention")
    prefix = "SPLAT"
    paper = "Zhang et al., 2020"
    learn_text = TEXT
    scale_text = N_("Each split-attention unit weighs its splits (groups of the same 3×3 convolution, with the "
                    "same window; the weights of a channel's splits add up to 1): with two splits, the page "
                    "compares the second split's weight b with the first's a. The splits do not differ in "
                    "kernel size, so a shift here is a shift between splits, not toward a larger kernel.")
    split_attention = True
    path_words = (N_("split"), N_("splits"))

    def walkthrough_steps(self, gate, module: nn.Module) -> list[StepKey]:
        m = gate.module
        return [(f"{m}.act0", "out"), (f"{m}.fc1", "in"), (f"{m}.act1", "out"), (f"{m}.rsoftmax", "out"),
                (m, "out")]

    def walkthrough(self, gate, module: nn.Module, prediction: dict, rec: dict[StepKey, torch.Tensor]) -> Walkthrough:
        m, radix, channels = gate.module, gate.paths, gate.channels
        conv_out = rec[(f"{m}.act0", "out")]                     # (radix * C, H, W), radix-major
        splits = conv_out.reshape(radix, channels, *conv_out.shape[-2:])
        weights = rec[(f"{m}.rsoftmax", "out")].reshape(radix, channels)
        z = rec[(f"{m}.act1", "out")].flatten()
        s_fused = splits.sum(0).mean((1, 2))
        v = rec[(m, "out")]
        checks = {"s = GAP(sum of splits)": max_error(s_fused, rec[(f"{m}.fc1", "in")].flatten()),
                  "V = sum_r w_r U_r": max_error(v, (weights[:, :, None, None] * splits).sum(0))}
        if radix > 1:
            checks["sum_r w_r = 1"] = max_error(weights.sum(0), torch.ones_like(weights[0]))
        return Walkthrough(
            gate=gate, kind=self, prediction=prediction, u_shape=tuple(splits.shape), z=as_numpy(z),
            u_paths=as_numpy(splits.mean((2, 3))), s_fused=as_numpy(s_fused), d=z.numel(),
            weights=as_numpy(weights), a=as_numpy(weights[0]) if radix > 1 else None,
            b=as_numpy(weights[1]) if radix > 1 else None, radix=radix,
            gate_fn="softmax" if radix > 1 else "sigmoid", u=as_numpy(splits), v=as_numpy(v), checks=checks)

    def live_numbers(self, w: Walkthrough, channel: int) -> list[tuple[str, str, str]]:
        c = channel
        rows = self.fuse_rows(w, c)
        if w.a is None:
            return rows + [(f"a_{c}", _("sigmoid weight (radix 1)"), f"{w.weights[0][c]:.4f}")]
        return rows + [(f"a_{c}", _("weight of the first split"), f"{w.a[c]:.4f}"),
                       (f"b_{c}", _("weight of the second split"), f"{w.b[c]:.4f}"),
                       ("mean(b − a)", _("mean attention difference of the unit"), f"{(w.b - w.a).mean():+.4f}")]


SPLAT = SplitAttention()

register_gate(SplitAttn, GateType(
    SPLAT, "radix", source=lambda m: m.rsoftmax,
    channels=lambda m: m.fc2.out_channels // m.radix,
    paths=lambda m: m.radix))
