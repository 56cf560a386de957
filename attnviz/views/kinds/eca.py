"""The words of Efficient Channel Attention (``attnviz.gates.eca``): its lesson, panels and live numbers."""
from __future__ import annotations

from ...gates.eca import ECA, ECAWalkthrough
from ...i18n import _, N_
from .common import ChannelGateView, Panel, Row, register_view

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



class EfficientChannelAttentionView(ChannelGateView[ECAWalkthrough]):
    kind_name = "eca"
    title = N_("Efficient Channel Attention")
    diagram_title = N_("An ECA block ({gate}) on this photo: one weight per channel")
    diagram_excite = N_("excite<br>s = σ(conv1d(z))")
    learn_text = TEXT

    def walkthrough_panels(self, w: ECAWalkthrough) -> list[Panel]:
        return [self.squeeze_panel(w),
                (_("2a. 1-d convolution across channels, kernel k = {k}").format(k=w.kernel_size), [("conv1d(z)", w.conv)]),
                (_("2b. excitation: s = σ(conv1d(z)), one weight per channel"), [("s", w.s)]),
                self.scale_panel(w)]

    def live_numbers(self, w: ECAWalkthrough, channel: int) -> list[Row]:
        rows = self.squeeze_excite_rows(w, channel)
        return rows[:1] + [("k", _("kernel size of the 1-d convolution"), str(w.kernel_size))] + rows[1:]

    def refusal(self, gate, reason: str) -> str:
        if reason == "use_mlp":
            return _("gate {gate} uses timm's experimental two-layer ECA (use_mlp), which "
                     "the ECA walkthrough does not describe; choose another gate or model").format(gate=gate.name)
        return super().refusal(gate, reason)


ECA_VIEW = register_view(EfficientChannelAttentionView(ECA))
