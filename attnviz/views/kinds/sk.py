"""The words of Selective Kernel (``attnviz.gates.sk``): its lesson, the names of its kernel paths
(the only module besides the lesson's own that names the kernel sizes), panels and live numbers."""
from __future__ import annotations

from ...gates.sk import SK, SKWalkthrough
from ...i18n import _, N_
from .common import Row, SelectionView, register_view

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



class SelectiveKernelView(SelectionView):
    kind_name = "sk"
    title = N_("Selective Kernel")
    learn_text = TEXT
    learn_notes = NOTES
    scale_text = N_("Each SK unit has two paths: a 3×3 convolution (weight a) and a “5×5” one — in SKNet and "
                    "here a 3×3 with dilation 2, which sees a 5×5 window (weight b); per channel a + b = 1. Does "
                    "the unit move toward the larger kernel?")

    def path_names(self, paths: int) -> list[str]:
        names = ["a", "b"] + [_("path {n}").format(n=r + 1) for r in range(2, paths)]
        return names[:paths]

    def path_labels(self, paths: int) -> list[str]:
        labels = [_("a (3×3 weight)"), _("b (5×5 weight)")] + [_("{name} weight").format(name=name)
                                                               for name in self.path_names(paths)[2:]]
        return labels[:paths]

    def branch_names(self, paths: int) -> list[str]:
        return (["3×3", "5×5"] + [_("path {n}").format(n=r + 1) for r in range(2, paths)])[:paths]

    def list_titles(self, paths: int) -> tuple[str, str]:
        return _("lean most to the 5×5 kernel (highest b)"), _("lean most to the 3×3 kernel (lowest b)")

    def live_numbers(self, w: SKWalkthrough, channel: int) -> list[Row]:
        c = channel
        return self.fuse_rows(w, c) + [
                (f"a_{c}", _("weight of the 3×3 branch"), f"{w.a[c]:.4f}"),
                (f"b_{c}", _("weight of the 5×5 branch"), f"{w.b[c]:.4f}"),
                self.difference_row(w)]


SK_VIEW = register_view(SelectiveKernelView(SK))
