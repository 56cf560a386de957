"""Page 4, "Attribution": Grad-CAM, channel attribution vs the gate, and the knock-out, as charts."""
from __future__ import annotations

from ..analysis.attribution import ChannelAttribution, GradCamResult, KnockoutResult
from ..figures import attribution as attribution_figures
from ..gates import Gate
from ..i18n import N_, _
from .chart import Chart
from .kinds import value_label

#: How strong a rank correlation is, by |ρ| and sign (the whole phrase, so that it translates).
RELATIONS = {
    "none": N_("no relation"),
    "weak+": N_("a weak positive relation"), "weak-": N_("a weak negative relation"),
    "moderate+": N_("a moderate positive relation"), "moderate-": N_("a moderate negative relation"),
    "strong+": N_("a strong positive relation"), "strong-": N_("a strong negative relation"),
}


def gate_value_label(gate: Gate) -> str:
    """What ``channel_attribution`` reports as the gate's value (its kind says)."""
    return value_label(gate)


def correlation_reading(rho: float) -> str:
    """Spearman's rank correlation in words."""
    if rho != rho:  # nan
        return _("no rank correlation can be computed (one of the two is constant)")
    size = abs(rho)
    strength = "none" if size < 0.1 else "weak" if size < 0.3 else "moderate" if size < 0.5 else "strong"
    key = strength if strength == "none" else strength + ("+" if rho > 0 else "-")
    return _("{relation} (Spearman ρ = {rho:+.2f}; 0 = none, +1 = same order, −1 = reversed)").format(
        relation=_(RELATIONS[key]), rho=rho)


def attribution_charts(gate: Gate, cam: GradCamResult, channels: ChannelAttribution,
                       knocked: KnockoutResult) -> list[Chart]:
    where = (_("the block of {gate} (stage {stage}, block {block})").format(
        gate=gate.name, stage=gate.stage, block=gate.block) if gate.stage is not None
        else _("the block of {gate}").format(gate=gate.name))
    change = 100 * knocked.prob_change
    reading = correlation_reading(channels.spearman)
    if abs(channels.spearman) < 0.3:
        scatter_caption = _("Each point is a channel of {where}: its gate value, {value} (x), and how much it adds "
                            "to the score of '{label}' (y). Here: {reading} — the gate does not simply favour the "
                            "channels that carry the evidence.")
    else:
        scatter_caption = _("Each point is a channel of {where}: its gate value, {value} (x), and how much it adds "
                            "to the score of '{label}' (y). Here: {reading}.")
    before = knocked.before[0]
    return [
        Chart(f"gradcam_{gate.name}", attribution_figures.gradcam_overlay(
            cam.input_image, cam.heatmap,
            _("Grad-CAM for '{label}' ({prob:.1%}) at the block of {gate}").format(
                label=cam.label, prob=cam.prob, gate=gate.name)),
            _("Where in the photo (as the model sees it, cropped) the evidence for '{label}' lies, at the "
              "output of {where}: red regions raise the class's score most (Grad-CAM).").format(
                label=cam.label, where=where), wide=False),
        Chart(f"attribution_{gate.name}", attribution_figures.attribution_scatter(
            gate.name, channels.excitation, channels.attribution, channels.spearman, channels.label,
            gate_value_label(gate)),
            scatter_caption.format(where=where, value=gate_value_label(gate), label=channels.label, reading=reading),
            wide=False),
        Chart("knockout_" + "_".join(knocked.gates), attribution_figures.knockout_bars(
            knocked.before, knocked.after, knocked.gates),
            _("Knock-out: the gates {gates} are set to their neutral value (s = 1 for SE and ECA: the channels "
              "pass unscaled; a = b = 1/2 for SK: the two paths are simply averaged). The probability of the intact top-1 class '{label}' "
              "changes by {change:+.1f} percentage points ({before:.1%} → {after:.1%}).").format(
                gates=", ".join(knocked.gates), label=before.label, change=change, before=before.prob,
                after=before.prob + knocked.prob_change)),
    ]
