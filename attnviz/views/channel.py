"""What one channel responds to: the images a profile kept for it (its highest and lowest values)
and the class mix of its top images against the dataset's."""
from __future__ import annotations

from collections import Counter

import numpy as np

from ..figures import classes as class_figures
from ..gates import Gate
from ..i18n import _
from ..profiles.profile import Profile
from .chart import Chart
from .kinds import view_of


def list_titles(gate: Gate) -> tuple[str, str]:
    """How the two lists are named for this gate's kind: the most and least excited, or, for a
    selection between kernels, the images that lean most to the larger and to the smaller one."""
    return view_of(gate).list_titles(gate.paths)


def class_mix_chart(profile: Profile, gate: Gate, channel: int, listed: dict[str, list[dict]]) -> Chart:
    """Which classes the top images come from, against the whole dataset."""
    top = listed["top"]
    counts = Counter(row["class"] for row in top)
    names = profile.class_names
    share_top = [counts.get(n, 0) / max(len(top), 1) for n in names]
    totals = profile.counts(0).astype(float)
    share_all = list(totals / max(totals.sum(), 1))
    lead = max(counts, key=counts.__getitem__) if counts else None
    over = (share_top[names.index(lead)] / max(share_all[names.index(lead)], 1e-9)) if lead else float("nan")
    reading = (_("'{lead}' gives {count} of the {top} top images, {over:.1f} times its share of the "
                 "dataset.").format(lead=lead, count=counts[lead], top=len(top), over=over) if lead else "")
    return Chart(f"class_mix_{gate.name}_{channel}",
                 class_figures.class_mix_bars(names, share_top, share_all,
                                              _("{gate}, channel {channel}: the classes of its top images").format(
                                                  gate=gate.name, channel=channel)),
                 _("Purple: the classes of the {top} images that give channel {channel} its highest value; "
                   "grey: each class's share of the dataset. A channel tied to a class stands far above its grey "
                   "bar. {reading}").format(top=len(top), channel=channel, reading=reading))


def default_channel(gate: Gate, values: np.ndarray) -> int:
    """The channel to show first: the one the gate favours most on the first image."""
    v = np.asarray(values, dtype=float)
    return int(np.argmax(v[gate.kind.compared_path(gate.paths)]))
