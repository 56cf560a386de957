"""The Scale page's charts: the SKNet zoom experiment on the person's images (a ``ScaleSweep``) and
over a whole dataset (a profile made at several zooms)."""
from __future__ import annotations

from ..figures import scale as scale_figures
from ..profiles import Profile
from ..scale import ScaleSweep
from .chart import Chart

def scale_charts(sweep: ScaleSweep, unit: str) -> list[Chart]:
    """b per channel of ``unit`` at each zoom, and the mean difference of every unit at each zoom."""
    n = len(next(iter(sweep.analyses.values())))
    over = "the image" if n == 1 else f"{n} images (mean)"
    weights = {s: sweep.path_weights(s, unit, 1) for s in sweep.scales}
    gate = next(g for g in sweep.gates if g.name == unit)
    label = gate.kind.path_labels(gate.paths)[1]
    diffs = {s: sweep.mean_diff(s) for s in sweep.scales}
    return [
        Chart("scale_mean_difference", scale_figures.mean_difference_by_scale(
            diffs, title=f"Mean attention difference per unit at each zoom — {over}"),
            "SKNet (Sec. 4.3): as the object grows, the early and middle units move their attention "
            "toward the larger kernel, so their b − a rises with the zoom."),
        Chart(f"scale_channels_{unit}", scale_figures.channel_weights_by_scale(
            unit, weights, label, title=f"{unit}: {label} per channel, at each zoom — {over}")),
    ]


def profile_scale_chart(profile: Profile) -> Chart | None:
    """The same experiment over a whole dataset, from a profile computed at several scales."""
    multi = [g["name"] for g in profile.gates if g["paths"] >= 2]
    if len(profile.scales) < 2 or not multi:
        return None
    diffs = {}
    for si, scale in enumerate(profile.scales):
        diffs[scale] = {}
        for name in multi:
            overall = profile.overall_mean(name, si)
            diffs[scale][name] = float((overall[1] - overall[0]).mean())
    n = int(profile.counts(0).sum())
    return Chart("scale_mean_difference_dataset", scale_figures.mean_difference_by_scale(
        diffs, title=f"Mean attention difference per unit at each zoom — {n} images of "
                     f"{len(profile.class_names)} classes (saved profile)"))
