"""The words of ResNeSt's split attention (``attnviz.gates.splat``): its lesson, what the Scale
page says of its splits, panels and live numbers."""
from __future__ import annotations

from ...gates.splat import SPLAT, SplitWalkthrough
from ...i18n import _, N_
from .common import Row, SelectionView, register_view

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



class SplitAttentionView(SelectionView[SplitWalkthrough]):
    kind_name = "splat"
    title = N_("Split attention")
    learn_text = TEXT
    scale_text = N_("Each split-attention unit weighs its splits (groups of the same 3×3 convolution, with the "
                    "same window; the weights of a channel's splits add up to 1): with two splits, the page "
                    "compares the second split's weight b with the first's a. The splits do not differ in "
                    "kernel size, so a shift here is a shift between splits, not toward a larger kernel.")
    live_legend = N_("Drawn on the video: each unit's b − a as a bar (orange up: the second split gains; full "
                     "height ±{range}), and below, {gate}'s {label} per channel (dark blue 0, yellow 1).")
    scale_why = N_("**Why they may differ**: SKNet's finding is about a choice between kernels of two sizes; "
                   "the splits of a split-attention unit are groups of one convolution with the same window, so "
                   "a shift between them is no choice of receptive field, and SKNet's trend need not appear.")
    path_words = (N_("split"), N_("splits"))
    compare_pointer = N_("For split-attention units, the Scale experiment page shows how the weights of the splits "
                         "move as the object is enlarged.")

    def live_numbers(self, w: SplitWalkthrough, channel: int) -> list[Row]:
        c = channel
        rows = self.fuse_rows(w, c)
        if not self.kind.compares_paths(w.radix):
            return rows + [(f"a_{c}", _("sigmoid weight (radix 1)"), f"{w.weights[0][c]:.4f}")]
        return rows + [(f"a_{c}", _("weight of the first split"), f"{w.a[c]:.4f}"),
                       (f"b_{c}", _("weight of the second split"), f"{w.b[c]:.4f}"),
                       self.difference_row(w)]


SPLAT_VIEW = register_view(SplitAttentionView(SPLAT))
