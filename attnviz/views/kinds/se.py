"""The words of Squeeze-and-Excitation (``attnviz.gates.se``): its lesson, panels and live numbers."""
from __future__ import annotations

from ...gates.se import SE, SEWalkthrough
from ...i18n import _, N_
from .common import ChannelGateView, Panel, Row, register_view

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



class SqueezeExcitationView(ChannelGateView[SEWalkthrough]):
    kind_name = "se"
    title = N_("Squeeze-and-Excitation")
    learn_text = TEXT
    learn_notes = NOTES
    diagram_title = N_("An SE block ({gate}) on this photo: one weight per channel")
    diagram_excite = N_("excite<br>s = σ(W₂δ(W₁z))")

    def walkthrough_panels(self, w: SEWalkthrough) -> list[Panel]:
        return [self.squeeze_panel(w),
                (_("2a. bottleneck: δ(W₁ z), {units} hidden units (r = {r:g})").format(units=len(w.hidden), r=w.reduction),
                 [(_("hidden"), w.hidden)]),
                (_("2b. excitation: s = σ(W₂ · hidden), one weight per channel"), [("s", w.s)]),
                self.scale_panel(w)]

    def live_numbers(self, w: SEWalkthrough, channel: int) -> list[Row]:
        rows = self.squeeze_excite_rows(w, channel)
        return rows[:1] + [("r", _("reduction ratio of the bottleneck"), f"{w.reduction:g}")] + rows[1:]

    def refusal(self, gate, reason: str) -> str:
        if reason == "add_maxpool":
            return _("gate {gate} mixes max pooling into its squeeze (timm's "
                     "add_maxpool), which the SE walkthrough does not describe; choose "
                     "another gate or model").format(gate=gate.name)
        return super().refusal(gate, reason)


SE_VIEW = register_view(SqueezeExcitationView(SE))
