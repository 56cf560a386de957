"""Page "Learn": the gate's steps as charts and its formulas' live numbers, from the kind that
computed them (``Walkthrough.kind``: the panels, the numbers and the texts are the kind's)."""
from __future__ import annotations

import numpy as np

from ..figures.walkthrough import feature_maps, step_panels
from ..walkthrough import Walkthrough
from .chart import Chart


def walkthrough_chart(w: Walkthrough, channel: int) -> Chart:
    """The steps of the gate as bar panels, with ``channel`` marked."""
    name = w.gate.name
    return Chart(f"walkthrough_{name}",
                 step_panels(w.kind.walkthrough_panels(w), f"{name}, step by step, for this image", channel),
                 f"Each panel is one step of the formulas, with this photo's numbers; the red band marks "
                 f"channel {channel} in every per-channel step.")


def feature_map_chart(w: Walkthrough, channel: int) -> Chart:
    """The chosen channel's feature map before and after the gate."""
    before, after, labels = w.kind.feature_maps(w, channel)
    ratio = float(np.abs(after).mean() / max(np.abs(before).mean(), 1e-12))
    return Chart(f"feature_maps_{w.gate.name}_{channel}", feature_maps(before, after, channel, labels),
                 f"What the gate does to channel {channel} of this photo: the same map, scaled by "
                 f"{ratio:.2f} on average (one colour scale for both, so a paler map was scaled down).")


def live_numbers(w: Walkthrough, channel: int) -> list[dict]:
    """The symbols of the formulas with this image's values for ``channel`` (a table)."""
    return [{"symbol": s, "meaning": m, "value": str(v)} for s, m, v in w.kind.live_numbers(w, channel)]


def checks_table(w: Walkthrough) -> list[dict]:
    """The identities of the formulas, measured on this image (largest absolute error)."""
    return [{"identity": name, "largest error on this image": f"{err:.1e}"} for name, err in w.checks.items()]
