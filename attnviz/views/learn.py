"""Page "Learn": the gate's steps as charts and its formulas' live numbers, from the kind that
computed them (``Walkthrough.kind``: the panels, the numbers and the texts are the kind's)."""
from __future__ import annotations


from ..figures.walkthrough import feature_maps, shared_scale, step_panels
from ..i18n import N_, _
from ..figures.literal import markdown_text
from ..analysis.walkthrough import Walkthrough
from .kinds import view_of
from .chart import Chart

#: The tables' column ids (kept in English: the page orders the columns by them) and the headers a
#: reader sees, for ``st.column_config``: ``column_labels()``.
COLUMNS = {"symbol": N_("symbol"), "meaning": N_("meaning"), "value": N_("value"), "identity": N_("identity"),
           "largest error on this image": N_("largest error on this image")}


def column_labels() -> dict[str, str]:
    """Column id -> its header in the reader's language."""
    return {key: _(label) for key, label in COLUMNS.items()}


def walkthrough_chart(w: Walkthrough, channel: int) -> Chart:
    """The steps of the gate as bar panels, with ``channel`` marked."""
    name = w.gate.name
    return Chart(f"walkthrough_{name}",
                 step_panels(view_of(w.kind).walkthrough_panels(w), _("{gate}, step by step, for this image").format(gate=name),
                             channel),
                 " ".join(filter(None, [
                     _("Each panel is one step of the formulas, with this photo's numbers; the red band marks "
                       "channel {channel} in every per-channel step.").format(channel=channel),
                     view_of(w.kind).tensor_reading(w)])))


def feature_map_chart(w: Walkthrough, channel: int) -> Chart:
    """The chosen channel's feature map before and after the gate."""
    before, after, labels = view_of(w.kind).feature_maps(w, channel)
    return Chart(f"feature_maps_{w.gate.name}_{channel}", feature_maps(before, after, channel, labels),
                 view_of(w.kind).feature_map_reading(w, channel) + " " + scale_reading(before, after))


def scale_reading(before, after) -> str:
    """What the maps' one colour scale is, from the same arrays (``shared_scale``)."""
    scale = shared_scale(before, after)
    if scale.diverging:
        return _("The colour scale runs from {low:.2f} (blue) through 0 (white) to {high:.2f} (red) for both maps: "
                 "a map moved toward 0 looks paler, and neither map gets a range of its own.").format(
            low=scale.low, high=scale.high)
    return _("The colour scale runs from 0 to {high:.2f} for both maps: neither map gets a range of its own, "
             "so one cannot look brighter merely from its scaling.").format(high=scale.high)


def live_numbers(w: Walkthrough, channel: int) -> list[dict]:
    """The symbols of the formulas with this image's values for ``channel`` (a table)."""
    return [{"symbol": s, "meaning": m, "value": str(v)} for s, m, v in view_of(w.kind).live_numbers(w, channel)]


def as_table(rows: list[dict], columns: list[str]) -> list[dict]:
    """``rows`` for ``st.table`` (which wraps long cells, unlike ``st.dataframe``): the ``columns``
    in order, headed in the reader's language, each cell as literal Markdown (st.table renders
    Markdown: a symbol such as x~ must not become a strikethrough)."""
    labels = column_labels()
    return [{labels[key]: markdown_text(row[key]) for key in columns} for row in rows]


def checks_table(w: Walkthrough) -> list[dict]:
    """The identities of the formulas, measured on this image (largest absolute error)."""
    return [{"identity": name, "largest error on this image": f"{err:.1e}"} for name, err in w.checks.items()]
