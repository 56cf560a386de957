"""Page 4, "Attribution": Grad-CAM, channel attribution vs the gate, and the knock-out, as charts."""
from __future__ import annotations

from ..attribution import ChannelAttribution, GradCamResult, KnockoutResult
from ..figures import attribution as attribution_figures
from ..gates import Gate
from .chart import Chart


def gate_value_label(gate: Gate) -> str:
    """What ``channel_attribution`` reports as the gate's value (its kind says)."""
    return gate.value_label


def correlation_reading(rho: float) -> str:
    """Spearman's rank correlation in words."""
    if rho != rho:  # nan
        return "no rank correlation can be computed (one of the two is constant)"
    size = abs(rho)
    strength = ("no" if size < 0.1 else "a weak" if size < 0.3 else "a moderate" if size < 0.5 else "a strong")
    direction = "" if size < 0.1 else (" positive" if rho > 0 else " negative")
    return f"{strength}{direction} relation (Spearman ρ = {rho:+.2f}; 0 = none, ±1 = same order)"


def attribution_charts(gate: Gate, cam: GradCamResult, channels: ChannelAttribution,
                       knocked: KnockoutResult) -> list[Chart]:
    where = f"the block of {gate.name} (stage {gate.stage}, block {gate.block})" if gate.stage is not None \
        else f"the block of {gate.name}"
    change = 100 * knocked.prob_change
    return [
        Chart(f"gradcam_{gate.name}", attribution_figures.gradcam_overlay(
            cam.input_image, cam.heatmap,
            f"Grad-CAM for '{cam.label}' ({cam.prob:.1%}) at the block of {gate.name}"),
            f"Where in the photo (as the model sees it, cropped) the evidence for '{cam.label}' lies, at the "
            f"output of {where}: red regions raise the class's score most (Grad-CAM).", wide=False),
        Chart(f"attribution_{gate.name}", attribution_figures.attribution_scatter(
            gate.name, channels.excitation, channels.attribution, channels.spearman, channels.label,
            gate_value_label(gate)),
            f"Each point is a channel of {where}: how strongly the gate passes it (x) and how much it adds "
            f"to the score of '{channels.label}' (y). Here: {correlation_reading(channels.spearman)} — "
            "the gate does not simply favour the channels that carry the evidence."
            if abs(channels.spearman) < 0.3 else
            f"Each point is a channel of {where}: how strongly the gate passes it (x) and how much it adds "
            f"to the score of '{channels.label}' (y). Here: {correlation_reading(channels.spearman)}.",
            wide=False),
        Chart("knockout_" + "_".join(knocked.gates), attribution_figures.knockout_bars(
            knocked.before, knocked.after, knocked.gates),
            f"Knock-out: the gates {', '.join(knocked.gates)} are set to their neutral value (s = 1 for SE, "
            f"equal weights for SK: the block's features pass unweighted). The probability of the intact "
            f"top-1 class '{knocked.before[0]['label']}' changes by {change:+.1f} percentage points "
            f"({knocked.before[0]['prob']:.1%} → {knocked.before[0]['prob'] + knocked.prob_change:.1%})."),
    ]
