"""The words of Selective Kernel (``attnviz.gates.sk``): its lesson, the names of its kernel paths
(the only module besides the lesson's own that names the kernel sizes), panels and live numbers."""
from __future__ import annotations

from ...gates.sk import SK, SKWalkthrough
from ...i18n import _, N_
from .common import Row, SelectionView, SelectionWords, register_view

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



class SelectiveKernelView(SelectionView[SKWalkthrough]):
    kind_name = "sk"
    title = N_("Selective Kernel")
    learn_text = TEXT
    learn_notes = NOTES
    scale_text = N_("Each SK unit has two paths: a 3×3 convolution (weight a) and a “5×5” one — in SKNet and "
                    "here a 3×3 with dilation 2, which sees a 5×5 window (weight b); per channel a + b = 1. Does "
                    "the unit move toward the larger kernel?")

    live_legend = N_("Drawn on the video: each unit's b − a as a bar (orange up: the larger kernel gains; full height "
                     "±{range}), and below, {gate}'s {label} per channel (dark blue 0, yellow 1).")
    scale_why = N_("**Why they may differ**: a small network trained on few classes at low resolution, whose "
                   "two paths each see half of the input channels (timm's split_input), unlike SKNet-50.")
    selection_words = SelectionWords(
        a_axis="a (3×3)", b_axis="b (5×5)",
        scatter_hover=N_("%{customdata[0]} channel %{customdata[1]}<br>a (3×3) = %{x:.3f}"
                         "<br>b (5×5) = %{y:.3f}<extra>%{fullData.name}</extra>"),
        scatter_title=N_("Kernel selection per SK unit: b against a (above the diagonal: 5×5 wins)"),
        split_a=N_("a: 3×3 path"), split_b=N_("b: dilated 3×3 (“5×5”) path"),
        split_sorted=N_("channel (sorted: most 5×5 first)"), b_weight=N_("b (weight of the 5×5 path)"),
        split_chart_title=N_("{gate}: each channel's split between the 3×3 and the “5×5” path — {image}"),
        split_chart_caption=N_("Each bar is one channel: blue is its 3×3 share a, red its dilated (“5×5”) share "
                               "b, a + b = 1. {more} of {channels} channels give the larger kernel more than "
                               "half."),
        difference_caption=N_("SKNet's mean attention difference: the mean over a unit's channels of b − a (b: weight of "
                              "the dilated “5×5” path, a: of the 3×3 path). Above 0 the unit leans to the larger kernel."),
        diagram_split=N_("split<br>3×3 | dilated 3×3"),
        scale_channel_title=N_("{gate}: attention on the 5×5 kernel per channel, at each zoom"),
        scale_difference_title=N_("Mean attention difference per unit at each zoom: a rise means the 5×5 kernel gains"),
        depth_axis=N_("SK unit (input → output)"), depth_title=N_("Mean attention difference b − a per SK unit"),
        diagram_title=N_("An SK unit ({gate}) on this photo: each channel splits its attention"))
    scale_paper_finding = N_(
        "**The paper** (SKNet-50 on ImageNet): when the object is enlarged (1.0× → 1.5× → 2.0×), the "
        "early and middle SK units give the larger kernel more weight: their mean attention difference "
        "b − a rises clearly; the last units do not follow.")
    compare_pointer = N_("For SK units, the paper's question is how the kernel choice moves with the object's "
                         "size: see the Scale experiment page.")
    home_line = N_("- a **Selective Kernel (SK)** unit lets every channel choose between a small (3×3) and a "
                   "larger (dilated, “5×5”) filter: weights *a* and *b* with *a* + *b* = 1.")

    def path_names(self, paths: int) -> list[str]:
        names = ["a", "b"] + [_("path {n}").format(n=r + 1) for r in range(2, paths)]
        return names[:paths]

    def path_labels(self, paths: int) -> list[str]:
        labels = [_("a (3×3 weight)"), _("b (5×5 weight)")] + [_("{name} weight").format(name=name)
                                                               for name in self.path_names(paths)[2:]]
        return labels[:paths]

    def branch_names(self, paths: int) -> list[str]:
        return (["3×3", "5×5"] + [_("path {n}").format(n=r + 1) for r in range(2, paths)])[:paths]

    def list_titles(self, paths: int) -> tuple[str, str]:  # noqa: ARG002  KindView interface: SK always names two kernels
        return _("lean most to the 5×5 kernel (highest b)"), _("lean most to the 3×3 kernel (lowest b)")

    def live_numbers(self, w: SKWalkthrough, channel: int) -> list[Row]:
        c = channel
        return self.fuse_rows(w, c) + [
                (f"a_{c}", _("weight of the 3×3 branch"), f"{w.a[c]:.4f}"),
                (f"b_{c}", _("weight of the 5×5 branch"), f"{w.b[c]:.4f}"),
                self.difference_row(w)]


SK_VIEW = register_view(SelectiveKernelView(SK))
