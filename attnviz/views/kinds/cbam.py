"""The words of CBAM's channel attention (``attnviz.gates.cbam``): its lesson, panels and live numbers."""
from __future__ import annotations

from ...gates.cbam import CBAM, CBAMWalkthrough
from ...i18n import _, N_
from .common import ChannelGateView, Panel, Row, register_view

TEXT = N_(r"""
**CBAM's channel attention** (Convolutional Block Attention Module, Woo et al., 2018) is an SE-like
gate that squeezes each channel twice, by its average and by its maximum:

1. **Squeeze** — average pooling and max pooling over all positions give two descriptors,
   $\mathbf{F}^c_{avg}$ and $\mathbf{F}^c_{max}$ ($C$ values each).
2. **Shared MLP** — one network with a hidden layer of $C/r$ units (ReLU) is applied to each, and
   the two outputs are added:
   $\mathbf{M}_c(\mathbf{F}) = \sigma\big(\mathbf{W}_1(\mathbf{W}_0(\mathbf{F}^c_{avg})) + \mathbf{W}_1(\mathbf{W}_0(\mathbf{F}^c_{max}))\big)$,
   with $\mathbf{W}_0 \in \mathbb{R}^{C/r \times C}$, $\mathbf{W}_1 \in \mathbb{R}^{C \times C/r}$, $\sigma$ = sigmoid.
3. **Scale** — $\mathbf{F}' = \mathbf{M}_c(\mathbf{F}) \otimes \mathbf{F}$: each channel multiplied by its weight.

In CBAM a spatial attention module follows, which weighs positions rather than channels; this
app shows the channel weights, written $s$ as for SE.
""")


class CBAMChannelAttentionView(ChannelGateView[CBAMWalkthrough]):
    kind_name = "cbam"
    title = N_("CBAM channel attention")
    diagram_title = N_("CBAM's channel attention ({gate}) on this photo: one weight per channel")
    diagram_squeeze = N_("squeeze<br>mean and max of u")
    diagram_excite = N_("excite<br>s = σ(MLP(avg) + MLP(max))")
    learn_text = TEXT

    def walkthrough_panels(self, w: CBAMWalkthrough) -> list[Panel]:
        return [(_("1. squeeze: average and maximum of each channel"), [("AvgPool(u)", w.z), ("MaxPool(u)", w.z_max)]),
                (_("2a. shared MLP ({units} hidden units, r = {r:g}) on each descriptor").format(
                    units=w.hidden, r=w.reduction), [("MLP(avg)", w.mlp_avg), ("MLP(max)", w.mlp_max)]),
                (_("2b. channel attention: s = σ(MLP(avg) + MLP(max)), one weight per channel"), [("s", w.s)]),
                self.scale_panel(w)]

    def live_numbers(self, w: CBAMWalkthrough, channel: int) -> list[Row]:
        c = channel
        rows = self.squeeze_excite_rows(w, channel)
        return rows[:2] + [
            ("r", _("reduction ratio of the shared MLP"), f"{w.reduction:g}"),
            (f"max_{c}", _("maximum of channel {c} over all positions").format(c=c), f"{w.z_max[c]:.4f}"),
            (f"MLP(avg)_{c}", _("shared MLP on the average, channel {c}").format(c=c), f"{w.mlp_avg[c]:.4f}"),
            (f"MLP(max)_{c}", _("shared MLP on the maximum, channel {c}").format(c=c), f"{w.mlp_max[c]:.4f}"),
        ] + rows[2:]


CBAM_VIEW = register_view(CBAMChannelAttentionView(CBAM))
