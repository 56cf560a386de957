"""Selective Kernel (Li et al., 2019): a softmax across kernel paths, per channel.

timm's ``SelectiveKernelAttn`` returns (B, paths, C, 1, 1); path 0 is the 3x3 path (a_c) and
path 1 the "5x5" path, which timm builds as a 3x3 with dilation 2 (b_c); a_c + b_c = 1. The
gated feature map V = a U1 + b U2 is made by its parent ``SelectiveKernel``.
"""
from __future__ import annotations

import torch
import torch.nn as nn
from timm.layers.selective_kernel import SelectiveKernelAttn

from ..errors import AttnvizError
from ..i18n import _, N_
from .kind import SelectionKind, StepKey, Walkthrough, as_numpy, max_error
from .registry import GateType, register_gate

TEXT = N_(r"""
**Selective Kernel** units (Li et al., 2019) let each channel *choose its receptive field*:
a small or a large convolution kernel, depending on the image.

1. **Split** — two branches convolve the input: $\tilde{\mathbf{U}}$ with a 3×3 kernel and
   $\hat{\mathbf{U}}$ with a "5×5" one (as in SKNet, a 3×3 kernel with dilation 2, which sees a
   5×5 window; timm's skresnet18, skresnet34 and skresnet50 give each branch half of the input
   channels, while skresnext50_32x4d, like SKNet, feeds all of them to both).
2. **Fuse** — add the branches, average over positions, and compress:
   $\mathbf{U} = \tilde{\mathbf{U}} + \hat{\mathbf{U}}$,
   $s_c = \frac{1}{H W} \sum_{i,j} U_c(i, j)$,
   $\mathbf{z} = \delta\big(\mathcal{B}(\mathbf{W}\mathbf{s})\big)$ with
   $\mathbf{W} \in \mathbb{R}^{d \times C}$, $d = \max(C / r, L)$, $\mathcal{B}$ = batch norm,
   $\delta$ = ReLU.
3. **Select** — a softmax across the two branches, separately for every channel:
   $a_c = \frac{e^{\mathbf{A}_c \mathbf{z}}}{e^{\mathbf{A}_c \mathbf{z}} + e^{\mathbf{B}_c \mathbf{z}}}$,
   $b_c = \frac{e^{\mathbf{B}_c \mathbf{z}}}{e^{\mathbf{A}_c \mathbf{z}} + e^{\mathbf{B}_c \mathbf{z}}}$,
   so $a_c + b_c = 1$, and the output is
   $\mathbf{V}_c = a_c \cdot \tilde{\mathbf{U}}_c + b_c \cdot \hat{\mathbf{U}}_c$.

$b_c > 0.5$ means channel $c$ prefers the larger kernel. SKNet's *mean attention difference*
$\frac{1}{C}\sum_c (b_c - a_c)$ summarises a unit; in the paper's experiment with enlarged objects
it rises for the units of the early and middle stages as the object gets bigger, not for the last ones.
""")

#: Under the formulas: SKNet's letters are not SENet's.
NOTES = (
    N_(r"""**The letters differ between the papers.** In SKNet, $\mathbf{s} = \mathcal{F}_{gp}(\mathbf{U})$
is the pooled channel descriptor (what SENet calls $\mathbf{z}$), $\mathbf{z} = \mathcal{F}_{fc}(\mathbf{s})$
the compact feature of $d$ values, and $\mathbf{a}$, $\mathbf{b}$ the softmax attention weights of the
two branches (the role of SENet's excitation $\mathbf{s}$). This page keeps each paper's own letters."""),
)


class SelectiveKernel(SelectionKind):
    name = "sk"
    title = N_("Selective Kernel")
    prefix = "SK"
    paper = "Li et al., 2019"
    learn_text = TEXT
    learn_notes = NOTES
    scale_text = N_("Each SK unit has two paths: a 3×3 convolution (weight a) and a “5×5” one — in SKNet and "
                    "here a 3×3 with dilation 2, which sees a 5×5 window (weight b); per channel a + b = 1. Does "
                    "the unit move toward the larger kernel?")
    kernel_selection = True

    def path_names(self, paths: int) -> list[str]:
        names = ["a", "b"] + [_("path {n}").format(n=r + 1) for r in range(2, paths)]
        return names[:paths]

    def path_labels(self, paths: int) -> list[str]:
        labels = [_("a (3×3 weight)"), _("b (5×5 weight)")] + [_("{name} weight").format(name=name)
                                                               for name in self.path_names(paths)[2:]]
        return labels[:paths]

    def branch_names(self, paths: int) -> list[str]:
        return (["3×3", "5×5"] + [_("path {n}").format(n=r + 1) for r in range(2, paths)])[:paths]

    def gated_layer(self, module_path: str) -> str:
        return module_path.rsplit(".", 1)[0]  # the parent SelectiveKernel returns V

    def walkthrough_steps(self, gate, module: nn.Module) -> list[StepKey]:
        if gate.variant != "sk":  # e.g. a selection found by its pattern: no timm submodules to follow
            raise AttnvizError(self._no_walkthrough(gate))
        m = gate.module
        return [(m, "in"), (f"{m}.fc_reduce", "in"), (f"{m}.act", "out"), (m, "out"),
                (self.gated_layer(m), "out")]

    def walkthrough(self, gate, module: nn.Module, prediction: dict, rec: dict[StepKey, torch.Tensor]) -> Walkthrough:
        m = gate.module
        paths = rec[(m, "in")]                                   # (P, C, H, W): U1, U2, ...
        weights = rec[(m, "out")].reshape(gate.paths, gate.channels)
        z = rec[(f"{m}.act", "out")].flatten()
        s_fused = paths.sum(0).mean((1, 2))
        v = rec[(self.gated_layer(m), "out")]
        return Walkthrough(
            gate=gate, kind=self, prediction=prediction, u_shape=tuple(paths.shape), z=as_numpy(z),
            u_paths=as_numpy(paths.mean((2, 3))), s_fused=as_numpy(s_fused), d=z.numel(),
            weights=as_numpy(weights), a=as_numpy(weights[0]), b=as_numpy(weights[1]), gate_fn="softmax",
            u=as_numpy(paths), v=as_numpy(v),
            checks={"s = GAP(U1 + U2)": max_error(s_fused, rec[(f"{m}.fc_reduce", "in")].flatten()),
                    "a + b = 1": max_error(weights.sum(0), torch.ones_like(weights[0])),
                    "V = a U1 + b U2": max_error(v, (weights[:, :, None, None] * paths).sum(0))})

    def live_numbers(self, w: Walkthrough, channel: int) -> list[tuple[str, str, str]]:
        c = channel
        return self.fuse_rows(w, c) + [
                (f"a_{c}", _("weight of the 3×3 branch"), f"{w.a[c]:.4f}"),
                (f"b_{c}", _("weight of the 5×5 branch"), f"{w.b[c]:.4f}"),
                ("mean(b − a)", _("mean attention difference of the unit"), f"{(w.b - w.a).mean():+.4f}")]


SK = SelectiveKernel()

register_gate(SelectiveKernelAttn, GateType(
    SK, "sk", source=lambda m: m,
    channels=lambda m: m.fc_select.out_channels // m.num_paths,
    paths=lambda m: m.num_paths))
