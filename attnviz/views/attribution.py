"""Page 4, "Attribution": Grad-CAM, channel attribution vs the gate, and the knock-out, as charts."""
from __future__ import annotations

from ..attribution import ChannelAttribution, GradCamResult, KnockoutResult
from ..figures import attribution as attribution_figures
from ..gates import Gate
from .chart import Chart


def gate_value_label(gate: Gate) -> str:
    """What ``channel_attribution`` reports as the gate's value (its kind says)."""
    return gate.value_label


def attribution_charts(gate: Gate, cam: GradCamResult, channels: ChannelAttribution,
                       knocked: KnockoutResult) -> list[Chart]:
    return [
        Chart(f"gradcam_{gate.name}", attribution_figures.gradcam_overlay(
            cam.input_image, cam.heatmap,
            f"Grad-CAM for '{cam.label}' ({cam.prob:.1%}) at the block of {gate.name}"),
            f"captum LayerGradCam on the output of `{cam.layer}`, upsampled to the input; red marks "
            "the regions that raise the class's score most.", wide=False),
        Chart(f"attribution_{gate.name}", attribution_figures.attribution_scatter(
            gate.name, channels.excitation, channels.attribution, channels.spearman, channels.label,
            gate_value_label(gate)),
            f"Each point is a channel of `{channels.layer}`: how strongly the gate passes it (x) and "
            "how much it adds to the class's logit (y).", wide=False),
        Chart("knockout_" + "_".join(knocked.gates), attribution_figures.knockout_bars(
            knocked.before, knocked.after, knocked.gates),
            f"Neutralised: s = 1 for SE, equal weights (0.5/0.5) for SK. The intact top-1 class "
            f"'{knocked.before[0]['label']}' changes by {knocked.prob_change:+.1%}."),
    ]
