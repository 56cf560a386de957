"""Page "Learn": the gate's steps as charts and its formulas' live numbers, from the kind that
computed them (``Walkthrough.kind``: the panels, the numbers and the texts are the kind's)."""
from __future__ import annotations

from ..figures.walkthrough import step_panels
from ..walkthrough import Walkthrough
from .chart import Chart


def walkthrough_chart(w: Walkthrough, channel: int) -> Chart:
    """The steps of the gate as bar panels, with ``channel`` marked."""
    name = w.gate.name
    return Chart(f"walkthrough_{name}",
                 step_panels(w.kind.walkthrough_panels(w), f"{name}, step by step, for this image", channel),
                 "The dotted red line marks the chosen channel in every per-channel step.")


def live_numbers(w: Walkthrough, channel: int) -> list[dict]:
    """The symbols of the formulas with this image's values for ``channel`` (a table)."""
    return [{"symbol": s, "meaning": m, "value": str(v)} for s, m, v in w.kind.live_numbers(w, channel)]


def checks_table(w: Walkthrough) -> list[dict]:
    """The identities of the formulas, measured on this image (largest absolute error)."""
    return [{"identity": name, "largest error on this image": f"{err:.1e}"} for name, err in w.checks.items()]
