"""What a person reads about an attention kind: its view, one per kind, found by the kind's name.

A kind (``attnviz.gates``) says what its values are; its view (``attnviz/views/kinds/<kind>.py``)
says it in words: the kind's title and lesson (the Learn page), the names and labels of its paths,
what the Scale page says of them, the walkthrough's chart panels, numbers and readings, and why a
walkthrough does not cover a gate. Texts are marked ``N_()`` and translated where they are shown.
A kind without a registered view (a plug-in's) gets the generic ``KindView``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar
from collections.abc import Sequence

import numpy as np

from ...gates import AttentionKind, Gate, Walkthrough
from ...gates.kind import ChannelWalkthrough, SelectionWalkthrough
from ...i18n import _, N_
from ...analysis.statistics import mean_attention_difference

#: The walkthrough a view reads (the kind's own ``Walkthrough`` subclass).
W = TypeVar("W", bound=Walkthrough)
#: A chart panel: (title, [(series name, values)]).
Panel = tuple[str, Sequence[tuple[str, np.ndarray]]]
#: A row of the live numbers: (symbol, meaning, value).
Row = tuple[str, str, str]


@dataclass(frozen=True)
class SelectionWords:
    """What the charts of a selection between paths of different receptive fields (the SELECTION
    family: SK's a and b) call its paths, each marked N_() and translated where drawn."""

    a_axis: str                 # "a (…)", the short axis title of path a
    b_axis: str
    scatter_hover: str          # hover of b against a: %{customdata[0]} unit, [1] channel, x a, y b
    scatter_title: str
    split_a: str                # legend of path a in a channel's split
    split_b: str
    split_sorted: str           # the channel axis, sorted by b
    b_weight: str               # the axis of b alone
    split_chart_title: str      # {gate}, {image}
    split_chart_caption: str    # {more}, {channels}
    difference_caption: str     # what mean(b − a) means for this kind
    diagram_split: str          # the diagram's first box
    scale_channel_title: str    # {gate}
    scale_difference_title: str
    depth_axis: str             # the units in depth order, the mean attention difference's x axis
    depth_title: str            # the mean attention difference across depth
    diagram_title: str          # the home page's diagram of one unit: {gate}


class KindView(Generic[W]):
    """The words of one attention kind. Subclasses set the class attributes and override what differs."""

    kind_name: ClassVar[str] = ""
    title: ClassVar[str] = ""            # N_(): shown as heading()
    learn_text: ClassVar[str] = ""       # markdown with the formulas, N_()
    #: Short notes shown under ``learn_text``, N_(): which tensor the live example shows, and the
    #: paper's own letters where another paper uses them for something else.
    learn_notes: ClassVar[tuple[str, ...]] = ()
    #: What the Scale page says the kind's paths are, N_() (empty: the kind has no paths to compare).
    scale_text: ClassVar[str] = ""
    #: The Live page's legend for a gate that compares paths, N_() ({range}, {gate}, {label}); "" for the default.
    live_legend: ClassVar[str] = ""
    #: Why the Scale page's model may differ from SKNet's finding, N_() (empty: nothing to say).
    scale_why: ClassVar[str] = ""
    #: What the kind's paper found when the object is enlarged, N_() (the Scale page; "" for none).
    scale_paper_finding: ClassVar[str] = ""
    #: Where the Compare page sends a reader of a model without SE gates, for the paper question that
    #: this kind's gates answer, N_() ("" for none).
    compare_pointer: ClassVar[str] = ""
    #: The words of its SELECTION charts (None: the kind draws none).
    selection_words: ClassVar[SelectionWords | None] = None
    #: Its line in the home page's list of kinds, N_() ("" for none).
    home_line: ClassVar[str] = ""
    #: What one path, and several, are called (N_(), translated where used).
    path_words: ClassVar[tuple[str, str]] = (N_("path"), N_("paths"))

    def __init__(self, kind: AttentionKind) -> None:
        self.kind = kind

    def __repr__(self) -> str:
        return f"<view of {self.kind!r}>"

    def heading(self) -> str:
        """The kind's name in the reader's language."""
        return _(self.title) if self.title else self.kind.title

    def lesson(self) -> str:
        """The Learn page's explanation: the formulas, then the notes, translated."""
        return "\n\n".join(_(text) for text in (self.learn_text, *self.learn_notes) if text)

    def live_difference_legend(self) -> str:
        """The Live page's legend when the chosen gate compares paths: each unit's b − a drawn as a bar
        ({range}: full height), and the gate's {label} per channel of {gate}; translated."""
        return _(self.live_legend or SelectionView.live_legend)

    def scale_difference_note(self) -> str:
        """Why this model's units may move otherwise than SKNet's in its zoom experiment ("": no note)."""
        return _(self.scale_why) if self.scale_why else ""

    def scale_sentence(self) -> str:
        """What the Scale page says about this kind's paths ("" when it has none to compare)."""
        return _(self.scale_text) if self.scale_text else ""

    # ------------------------------------------------------------ paths and values

    def path_names(self, paths: int) -> list[str]:
        """Short names of the paths of a value (paths, C)."""
        return ["s"] if paths == 1 else [_("split {n}").format(n=r + 1) for r in range(paths)]

    def path_labels(self, paths: int) -> list[str]:
        """Axis labels of each path's weight."""
        return [_("{name} weight").format(name=name) for name in self.path_names(paths)]

    def value_label(self, paths: int) -> str:
        """The label of the compared value (``AttentionKind.compared_path``)."""
        return self.path_labels(paths)[self.kind.compared_path(paths)]

    def value_symbol(self, paths: int) -> str:
        """The short name of the compared value."""
        return self.path_names(paths)[self.kind.compared_path(paths)]

    def list_titles(self, paths: int) -> tuple[str, str]:
        """How the Channel page names its two lists of images: the highest and the lowest compared value."""
        label = self.value_label(paths)
        return (_("excite it most (highest {label})").format(label=label),
                _("excite it least (lowest {label})").format(label=label))

    def path_word(self, many: bool = True) -> str:
        """What this kind's paths are called ("paths", "splits" ...), translated."""
        return _(self.path_words[1 if many else 0])

    # ------------------------------------------------------------ walkthrough

    def walkthrough_panels(self, w: W) -> list[Panel]:
        """The steps as chart panels, in order."""
        raise NotImplementedError(f"{self!r} draws no walkthrough")

    def live_numbers(self, w: W, channel: int) -> list[Row]:
        """(symbol, meaning, value) rows of the formulas for one channel."""
        raise NotImplementedError(f"{self!r} has no live numbers")

    def feature_maps(self, w: Walkthrough, channel: int) -> tuple[np.ndarray, np.ndarray, tuple[str, str]]:
        """Channel ``channel`` of the feature map before and after the gate, with their labels."""
        return w.u[channel], w.v[channel], (_("u_{c}: before the gate").format(c=channel),
                                            _("x̃_{c} = s_{c} · u_{c}: after").format(c=channel))

    def tensor_reading(self, w: Walkthrough) -> str:  # noqa: ARG002  KindView interface: kinds that need it override
        """A sentence under the step chart about the tensor it starts from ("" when there is nothing to warn about)."""
        return ""

    def feature_map_reading(self, w: Walkthrough, channel: int) -> str:  # noqa: ARG002  KindView interface: kinds that need it override
        """One sentence under the before/after maps: what the gate did to this channel's map."""
        return ""

    def refusal(self, gate: Gate, reason: str) -> str:  # noqa: ARG002  KindView interface: kinds that need it override
        """Why the walkthrough does not cover ``gate`` (``WalkthroughNotCovered.reason``)."""
        return _("the walkthrough does not cover gate {gate} (variant {variant}); "
                 "choose another gate").format(gate=gate.name, variant=repr(gate.variant))


CW = TypeVar("CW", bound=ChannelWalkthrough)
SW = TypeVar("SW", bound=SelectionWalkthrough)


class ChannelGateView(KindView[CW]):
    """The words of a per-channel sigmoid gate (SE and its relatives)."""

    path_words = (N_("channel"), N_("channels"))
    #: The home page's diagram of one gate (``figures.diagram.channel_diagram``), N_(): its title
    #: ({gate}) and the boxes of its squeeze and excite steps, each kind's own formula.
    diagram_title: ClassVar[str] = N_("{gate} on this photo: one weight per channel")
    diagram_squeeze: ClassVar[str] = N_("squeeze<br>z = mean")
    diagram_excite: ClassVar[str] = N_("excite<br>one weight s per channel")

    def diagram_boxes(self, w: ChannelWalkthrough) -> list[str]:
        """The diagram's four steps, translated: features, squeeze, excite, scale."""
        return [_("features u<br>{channels} channels").format(channels=w.channels), _(self.diagram_squeeze),
                _(self.diagram_excite), _("scale<br>x̃ = s · u")]

    def path_names(self, paths: int) -> list[str]:  # noqa: ARG002  KindView interface: kinds that need it override
        return ["s"]

    def path_labels(self, paths: int) -> list[str]:  # noqa: ARG002  KindView interface: kinds that need it override
        return [_("excitation s")]

    def squeeze_panel(self, w: ChannelWalkthrough) -> Panel:
        return _("1. squeeze: z = GAP(u), one value per channel"), [("z", w.z)]

    def scale_panel(self, w: ChannelWalkthrough) -> Panel:
        return (_("3. scale: x̃_c = s_c · u_c (mean of each channel before and after)"),
                [(_("mean of {name}").format(name="u"), w.u.mean((1, 2))),
                 (_("mean of {name}").format(name="x̃"), w.v.mean((1, 2)))])

    def tensor_reading(self, w: Walkthrough) -> str:
        negative = int((w.z < 0).sum())
        if not negative:
            return ""
        return _("{n} of the {C} squeeze values z_c are negative on this photo. That is expected: u is the gate's "
                 "input, not the block's output; in a residual block it is the residual branch (its last "
                 "convolution and batch norm) before the shortcut is added and before the block's final ReLU, "
                 "so its values can be negative. The weights s_c are still between 0 and 1.").format(
            n=negative, C=len(w.z))

    def feature_map_reading(self, w: Walkthrough, channel: int) -> str:
        assert isinstance(w, ChannelWalkthrough)
        return _("What the gate does to channel {channel} of this photo: the whole map is multiplied by "
                 "s_{channel} = {s:.2f} (both maps share one colour scale).").format(
            channel=channel, s=float(w.s[channel]))

    @staticmethod
    def squeeze_excite_rows(w: ChannelWalkthrough, channel: int) -> list[Row]:
        """The rows every channel gate shares: C, z_c, s_c, mean s."""
        c = channel
        return [("C", _("channels of the block"), str(w.channels)),
                (f"z_{c}", _("squeeze: mean of channel {c} over all positions").format(c=c), f"{w.z[c]:.4f}"),
                (f"s_{c}", _("excitation of channel {c}").format(c=c), f"{w.s[c]:.4f}"),
                ("mean s", _("average excitation over the channels"), f"{w.s.mean():.4f}")]


class SelectionView(KindView[SW]):
    """The words of a softmax across paths per channel (SK's kernels, ResNeSt's splits)."""

    path_words = (N_("branch"), N_("branches"))
    live_legend = N_("Drawn on the video: each unit's b − a as a bar (orange up: path b gains; full height "
                     "±{range}), and below, {gate}'s {label} per channel (dark blue 0, yellow 1).")

    def branch_names(self, paths: int) -> list[str]:
        """The paths' names in the walkthrough's panels."""
        return self.path_names(paths)

    def walkthrough_panels(self, w: Walkthrough) -> list[Panel]:
        assert isinstance(w, SelectionWalkthrough)
        one, many = (_(word) for word in self.path_words)
        branch = self.branch_names(w.paths)
        return [(_("1. split: GAP of each {one}").format(one=one), [(f"GAP({b})", v) for b, v in zip(branch, w.u_paths, strict=True)]),
                (_("2a. fuse: s = GAP(sum of {many})").format(many=many), [("s", w.s_fused)]),
                (_("2b. compress: z, d = {d} values (not per channel)").format(d=w.d), [("z", w.z)]),
                (_("3. select: softmax across {many}, per channel").format(many=many),
                 [(_("weight of {name}").format(name=b), v) for b, v in zip(branch, w.weights, strict=True)]),
                (_("4. combine: V = weighted sum of the {many} (mean of each channel)").format(many=many),
                 [*[(_("mean of {name}").format(name=b), v) for b, v in zip(branch, w.u_paths, strict=True)],
                  (_("mean of {name}").format(name="V"), w.v.mean((1, 2)))])]

    def feature_maps(self, w: Walkthrough, channel: int) -> tuple[np.ndarray, np.ndarray, tuple[str, str]]:
        many = _(self.path_words[1])
        return w.u[:, channel].sum(0), w.v[channel], (
            _("the {many} summed, channel {c}: before the selection").format(many=many, c=channel),
            _("V_{c}: the weighted sum, after").format(c=channel))

    def feature_map_reading(self, w: Walkthrough, channel: int) -> str:
        assert isinstance(w, SelectionWalkthrough)
        one, many = (_(word) for word in self.path_words)
        shares = ", ".join(f"{name} = {float(weight):.2f}" for name, weight in
                           zip(self.path_names(w.paths), w.weights[:, channel], strict=True))
        return _("What the selection does to channel {channel} of this photo: left, the {many} simply summed; "
                 "right, each {one} weighted by its share ({shares}) before the sum. Both maps share one colour "
                 "scale.").format(channel=channel, many=many, one=one, shares=shares)

    @staticmethod
    def fuse_rows(w: SelectionWalkthrough, channel: int) -> list[Row]:
        """The rows every selection shares: C, d, s_c, |z|."""
        c = channel
        return [("C", _("channels of the unit"), str(w.channels)), ("d", _("size of the compressed vector z"), str(w.d)),
                (f"s_{c}", _("fused descriptor of channel {c}").format(c=c), f"{w.s_fused[c]:.4f}"),
                ("‖z‖", _("length of z (shared by all channels)"), f"{np.linalg.norm(w.z):.4f}")]

    @staticmethod
    def difference_row(w: SelectionWalkthrough) -> Row:
        """SKNet's mean attention difference of the unit on this image."""
        return ("mean(b − a)", _("mean attention difference of the unit"),
                f"{float(mean_attention_difference(w.weights)):+.4f}")


_VIEWS: dict[str, KindView[Any]] = {}


def register_view(view: KindView[Any]) -> KindView[Any]:
    """Make a kind's view known (its file calls this once); returns it."""
    _VIEWS[view.kind.name] = view
    return view


def view_of(kind: AttentionKind | Gate | str) -> KindView[Any]:
    """The view of a kind (or of a gate's kind, or of the kind of this name); a generic one for a
    kind that registered none."""
    from ...gates import kind_named

    if isinstance(kind, Gate):
        kind = kind.kind
    name = kind if isinstance(kind, str) else kind.name
    if name not in _VIEWS:
        _VIEWS[name] = KindView(kind_named(name) if isinstance(kind, str) else kind)
    return _VIEWS[name]


def value_label(gate: Gate) -> str:
    """The label of ``gate``'s compared value, in the reader's language ("excitation s", "b (…)")."""
    return view_of(gate).value_label(gate.paths)
