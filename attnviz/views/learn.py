"""Page 5, "Learn": what SE, SK and split attention compute, step by step, with the live numbers
of one block for the current image (from ``attnviz.walkthrough``)."""
from __future__ import annotations

import numpy as np

from ..figures.walkthrough import step_panels
from ..walkthrough import Walkthrough
from .chart import Chart

SE_TEXT = r"""
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
"""

SK_TEXT = r"""
**Selective Kernel** units (Li et al., 2019) let each channel *choose its receptive field*:
a small or a large convolution kernel, depending on the image.

1. **Split** — two branches convolve the input: $\tilde{\mathbf{U}}$ with a 3×3 kernel and
   $\hat{\mathbf{U}}$ with a "5×5" one (as in SKNet, a 3×3 kernel with dilation 2, which sees a
   5×5 window; timm's SK-ResNets give each branch half of the input channels).
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
$\frac{1}{C}\sum_c (b_c - a_c)$ summarises a unit; it rises when objects get bigger.
"""

SPLAT_TEXT = r"""
**Split attention** (ResNeSt, Zhang et al., 2020) generalises SK to $R$ feature-map *splits*
(the radix) inside each group:

1. **Split** — $R$ convolutions give $\mathbf{U}_1, \dots, \mathbf{U}_R$.
2. **Fuse** — $\hat{\mathbf{U}} = \sum_r \mathbf{U}_r$, $s_c = \frac{1}{HW}\sum_{i,j} \hat{U}_c(i,j)$,
   then a small network $\mathcal{G}$ (dense, batch norm, ReLU, dense) maps $\mathbf{s}$ to scores.
3. **r-Softmax** — per channel, a softmax across the splits:
   $a_r(c) = \frac{\exp(\mathcal{G}^c_r(\mathbf{s}))}{\sum_{j=1}^{R} \exp(\mathcal{G}^c_j(\mathbf{s}))}$
   (a sigmoid when $R = 1$), and $\mathbf{V}_c = \sum_r a_r(c)\, \mathbf{U}_{r,c}$.

With $R = 2$ this is exactly SK's selection between two branches.
"""

TEXTS = {"se": SE_TEXT, "sk": SK_TEXT, "splat": SPLAT_TEXT}


def walkthrough_chart(w: Walkthrough, channel: int) -> Chart:
    """The steps of the gate as bar panels, with ``channel`` marked."""
    name = w.gate.name
    if w.kind == "se":
        steps = [("1. squeeze: z = GAP(u), one value per channel", [("z", w.z)]),
                 (f"2a. bottleneck: δ(W₁ z), {len(w.hidden)} hidden units (r = {w.reduction:g})", [("hidden", w.hidden)]),
                 ("2b. excitation: s = σ(W₂ · hidden), one weight per channel", [("s", w.s)])]
    else:
        branch = ("3×3", "5×5") if w.kind == "sk" else tuple(f"split {r + 1}" for r in range(len(w.u_paths)))
        steps = [("1. split: GAP of each branch", [(f"GAP({b})", v) for b, v in zip(branch, w.u_paths)]),
                 ("2a. fuse: s = GAP(sum of branches)", [("s", w.s_fused)]),
                 (f"2b. compress: z, d = {w.d} values (not per channel)", [("z", w.z)]),
                 ("3. select: softmax across branches, per channel",
                  [(f"weight of {b}", v) for b, v in zip(branch, w.weights)])]
    return Chart(f"walkthrough_{name}", step_panels(steps, f"{name}, step by step, for this image", channel),
                 "The dotted red line marks the chosen channel in every per-channel step.")


def live_numbers(w: Walkthrough, channel: int) -> list[dict]:
    """The symbols of the formulas with this image's values for ``channel`` (a table)."""
    c = channel
    if w.kind == "se":
        rows = [("C", "channels of the block", w.channels),
                ("r", "reduction ratio of the bottleneck", f"{w.reduction:g}"),
                (f"z_{c}", f"squeeze: mean of channel {c} over all positions", f"{w.z[c]:.4f}"),
                (f"s_{c}", f"excitation of channel {c}", f"{w.s[c]:.4f}"),
                ("mean s", "average excitation over the channels", f"{w.s.mean():.4f}")]
    else:
        rows = [("C", "channels of the unit", w.channels), ("d", "size of the compressed vector z", w.d),
                (f"s_{c}", f"fused descriptor of channel {c}", f"{w.s_fused[c]:.4f}"),
                ("‖z‖", "length of z (shared by all channels)", f"{np.linalg.norm(w.z):.4f}")]
        if w.a is not None:
            rows += [(f"a_{c}", f"weight of the {'3×3' if w.kind == 'sk' else 'first'} branch", f"{w.a[c]:.4f}"),
                     (f"b_{c}", f"weight of the {'5×5' if w.kind == 'sk' else 'second'} branch", f"{w.b[c]:.4f}"),
                     ("mean(b − a)", "mean attention difference of the unit", f"{(w.b - w.a).mean():+.4f}")]
        else:
            rows += [(f"a_{c}", "sigmoid weight (radix 1)", f"{w.weights[0][c]:.4f}")]
    return [{"symbol": s, "meaning": m, "value": str(v)} for s, m, v in rows]


def checks_table(w: Walkthrough) -> list[dict]:
    """The identities of the formulas, measured on this image (largest absolute error)."""
    return [{"identity": name, "largest error on this image": f"{err:.1e}"} for name, err in w.checks.items()]
