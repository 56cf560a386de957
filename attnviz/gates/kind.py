"""What an attention kind is: everything kind-specific, in one object per kind.

Each kind lives in its own file (``se.py``, ``eca.py``, ``sk.py``, ``splat.py``) as a subclass of
``AttentionKind`` and one instance of it: which module types it recognises (registered there),
what its values are (shape, axis and path names, the value compared across images and classes,
the neutral value of a knock-out), which tensor it gates (for attribution), its summary
statistics, its walkthrough (the steps recorded and their charts and numbers) and its texts.
Figures, statistics, capture, attribution, the CLI and the app ask the kind; nothing outside
``attnviz/gates/`` compares kind names.

A gate's values are always (paths, C): paths = 1 for a channel gate (SE, ECA), the kernel paths
for SK, the radix splits for split attention.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Literal, Sequence

import numpy as np
import torch
import torch.nn as nn

from ..i18n import _, N_

if TYPE_CHECKING:
    from .registry import Gate

#: The names of the kinds attnviz knows; each is the ``name`` of one AttentionKind.
KindName = Literal["se", "eca", "sk", "splat"]

#: A recorded step: (module path, "in" | "out").
StepKey = tuple[str, str]
#: A chart panel: (title, [(series name, values)]).
Panel = tuple[str, Sequence[tuple[str, np.ndarray]]]


@dataclass
class Walkthrough:
    """One gate's steps for one image (float32 numpy arrays, batch dimension removed).

    Always: gate, kind, prediction (top-1 index/label/prob), u_shape (the gated feature map:
    (C, H, W) for a channel gate, (paths, C, H, W) for SK and split attention), z, and checks
    (name of an identity -> largest absolute error, measured on this image).

    Channel gates: z (C,) squeeze = GAP(u); s (C,) the gate; gate_fn the squashing function.
        SE: hidden (C/r,) after W1 and ReLU; reduction r = C / hidden units.
        ECA: kernel_size k of the 1-d convolution across channels; conv (C,) its output.
    SK: u_paths (paths, C) GAP of each path; s_fused (C,) = GAP(U1 + U2); z (d,) after fc + BN +
        ReLU; d; weights (paths, C) the softmax; a (C,) = weights[0] (3x3), b (C,) = weights[1].
    Split attention: radix; u_paths (radix, C) GAP of each split; s_fused (C,) GAP of their sum;
        z (d,) after fc1 + BN + ReLU; d; weights (radix, C) the radix softmax (sigmoid when
        radix = 1); a, b the first two splits' weights when radix >= 2.
    """

    gate: "Gate"
    kind: "AttentionKind"
    prediction: dict
    u_shape: tuple[int, ...]
    z: np.ndarray
    checks: dict[str, float] = field(default_factory=dict)
    hidden: np.ndarray | None = None
    s: np.ndarray | None = None
    reduction: float | None = None
    gate_fn: str | None = None
    kernel_size: int | None = None
    conv: np.ndarray | None = None
    u_paths: np.ndarray | None = None
    s_fused: np.ndarray | None = None
    d: int | None = None
    weights: np.ndarray | None = None
    a: np.ndarray | None = None
    b: np.ndarray | None = None
    radix: int | None = None
    u: np.ndarray | None = None          # the gated feature map (C, H, W) or (paths, C, H, W)
    v: np.ndarray | None = None          # the block's gated output (C, H, W)

    @property
    def channels(self) -> int:
        return self.gate.channels


def as_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().astype(np.float32)


def max_error(x: torch.Tensor, y: torch.Tensor) -> float:
    return float((x - y).abs().max())


class AttentionKind:
    """Base of the attention kinds. Subclasses set the class attributes and override the methods
    whose behaviour differs; one instance per kind is registered (``registry.register_kind``)."""

    name: ClassVar[KindName]
    title: ClassVar[str]                 # "Squeeze-and-Excitation", marked N_(): show _(kind.title)
    prefix: ClassVar[str]                # gate names: "SE_2_1"
    paper: ClassVar[str]                 # "Hu et al., 2018"
    learn_text: ClassVar[str] = ""       # markdown with the formulas, N_(): the Learn page shows _(kind.learn_text)
    #: Short notes shown under ``learn_text``, N_(): which tensor the live example shows, and the
    #: paper's own letters where another paper uses them for something else.
    learn_notes: ClassVar[tuple[str, ...]] = ()
    #: What the Scale page says the kind's paths are, N_() (empty: the kind has no paths to compare).
    scale_text: ClassVar[str] = ""
    #: Which views apply: a per-channel gate (excitation charts), a selection between kernel
    #: paths (SK charts), a softmax across splits (split-attention charts).
    channel_gate: ClassVar[bool] = False
    kernel_selection: ClassVar[bool] = False
    split_attention: ClassVar[bool] = False

    def __repr__(self) -> str:
        return f"<attention kind {self.name}>"

    def __str__(self) -> str:
        return self.name

    # ------------------------------------------------------------ values

    def path_names(self, paths: int) -> list[str]:
        """Short names of the paths of a value (paths, C)."""
        return ["s"] if paths == 1 else [_("split {n}").format(n=r + 1) for r in range(paths)]

    def path_labels(self, paths: int) -> list[str]:
        """Axis labels of each path's weight."""
        return [_("{name} weight").format(name=name) for name in self.path_names(paths)]

    def compared_path(self, paths: int) -> int:
        """The path compared across images and classes (the gate's "value")."""
        return paths - 1

    def value_label(self, paths: int) -> str:
        return self.path_labels(paths)[self.compared_path(paths)]

    def neutral_value(self, paths: int) -> float:
        """The value that leaves the block's features unweighted (a knock-out)."""
        return 1.0 if paths == 1 else 1.0 / paths

    def per_image(self, values: torch.Tensor | np.ndarray):
        """One image's (paths, C) values in the papers' shape: (C,) for a channel gate."""
        return values[0] if self.channel_gate else values

    def summary(self, values: np.ndarray) -> dict:
        """Summary statistics of one image's values (paths, C): mean, std, min, max; with two or
        more paths also each path's mean, mean_a and mean_b of the first two, and SKNet's mean
        attention difference mean_diff = mean(b - a)."""
        v = np.asarray(values, dtype=np.float64)
        row = dict(mean=float(v.mean()), std=float(v.std()), min=float(v.min()), max=float(v.max()))
        if v.shape[0] > 1:
            row["mean_paths"] = [float(x) for x in v.mean(axis=1)]
            row.update(mean_a=float(v[0].mean()), mean_b=float(v[1].mean()), mean_diff=float((v[1] - v[0]).mean()))
        return row

    def gated_layer(self, module_path: str) -> str:
        """Path of the module whose output is the gated feature map (B, C, H, W)."""
        return module_path

    # ------------------------------------------------------------ walkthrough

    def walkthrough_steps(self, gate: "Gate", module: nn.Module) -> list[StepKey]:
        """The submodule inputs and outputs to record for the walkthrough of ``gate``."""
        raise NotImplementedError(self._no_walkthrough(gate))

    def walkthrough(self, gate: "Gate", module: nn.Module, prediction: dict,
                    recorded: dict[StepKey, torch.Tensor]) -> Walkthrough:
        """The Walkthrough of ``gate`` from the recorded tensors (batch dimension removed)."""
        raise NotImplementedError(self._no_walkthrough(gate))

    def walkthrough_panels(self, w: Walkthrough) -> list[Panel]:
        """The steps as chart panels, in order."""
        raise NotImplementedError

    def live_numbers(self, w: Walkthrough, channel: int) -> list[tuple[str, str, str]]:
        """(symbol, meaning, value) rows of the formulas for one channel."""
        raise NotImplementedError

    def most_attended(self, w: Walkthrough) -> int:
        """The channel the gate favours most on this image (the Learn page's first choice)."""
        return int(np.argmax(w.s if w.s is not None else w.weights[-1]))

    def feature_maps(self, w: Walkthrough, channel: int) -> tuple[np.ndarray, np.ndarray, tuple[str, str]]:
        """Channel ``channel`` of the feature map before and after the gate, with their labels."""
        return w.u[channel], w.v[channel], (_("u_{c}: before the gate").format(c=channel),
                                            _("x̃_{c} = s_{c} · u_{c}: after").format(c=channel))

    def tensor_reading(self, w: Walkthrough) -> str:
        """A sentence under the step chart about the tensor it starts from, from this image's
        numbers ("" when there is nothing to warn about)."""
        return ""

    def feature_map_reading(self, w: Walkthrough, channel: int) -> str:
        """One sentence under the before/after maps: what the gate did to this channel's map."""
        return _("What the gate does to channel {channel} of this photo: the whole map is multiplied by "
                 "s_{channel} = {s:.2f} (both maps share one colour scale).").format(
            channel=channel, s=float(w.s[channel]))

    def _no_walkthrough(self, gate: "Gate") -> str:
        return _("the walkthrough does not cover gate {gate} (variant {variant}); "
                 "choose another gate").format(gate=gate.name, variant=repr(gate.variant))


class ChannelGateKind(AttentionKind):
    """A per-channel sigmoid gate (SE and its relatives): one value s_c per channel."""

    channel_gate = True

    def path_names(self, paths: int) -> list[str]:
        return ["s"]

    def path_labels(self, paths: int) -> list[str]:
        return [_("excitation s")]

    def tensor_reading(self, w: Walkthrough) -> str:
        negative = int((w.z < 0).sum())
        if not negative:
            return ""
        return _("{n} of the {C} squeeze values z_c are negative on this photo. That is expected: u is the gate's "
                 "input, not the block's output; in a residual block it is the residual branch (its last "
                 "convolution and batch norm) before the shortcut is added and before the block's final ReLU, "
                 "so its values can be negative. The weights s_c are still between 0 and 1.").format(
            n=negative, C=len(w.z))

    @staticmethod
    def squeeze_excite_rows(w: Walkthrough, channel: int) -> list[tuple[str, str, str]]:
        """The rows every channel gate shares: C, z_c, s_c, mean s."""
        c = channel
        return [("C", _("channels of the block"), str(w.channels)),
                (f"z_{c}", _("squeeze: mean of channel {c} over all positions").format(c=c), f"{w.z[c]:.4f}"),
                (f"s_{c}", _("excitation of channel {c}").format(c=c), f"{w.s[c]:.4f}"),
                ("mean s", _("average excitation over the channels"), f"{w.s.mean():.4f}")]


class SelectionKind(AttentionKind):
    """A softmax across paths per channel (SK's kernels, ResNeSt's splits): fuse, then select."""

    #: What one path, and several, are called in the walkthrough (marked N_(), translated where used).
    path_words: ClassVar[tuple[str, str]] = (N_("branch"), N_("branches"))

    def branch_names(self, paths: int) -> list[str]:
        return self.path_names(paths)

    def walkthrough_panels(self, w: Walkthrough) -> list[Panel]:
        (one, many), branch = (_(word) for word in self.path_words), self.branch_names(len(w.u_paths))
        return [(_("1. split: GAP of each {one}").format(one=one), [(f"GAP({b})", v) for b, v in zip(branch, w.u_paths)]),
                (_("2a. fuse: s = GAP(sum of {many})").format(many=many), [("s", w.s_fused)]),
                (_("2b. compress: z, d = {d} values (not per channel)").format(d=w.d), [("z", w.z)]),
                (_("3. select: softmax across {many}, per channel").format(many=many),
                 [(_("weight of {name}").format(name=b), v) for b, v in zip(branch, w.weights)]),
                (_("4. combine: V = weighted sum of the {many} (mean of each channel)").format(many=many),
                 [*[(_("mean of {name}").format(name=b), v) for b, v in zip(branch, w.u_paths)],
                  (_("mean of {name}").format(name="V"), w.v.mean((1, 2)))])]

    def feature_maps(self, w: Walkthrough, channel: int) -> tuple[np.ndarray, np.ndarray, tuple[str, str]]:
        many = _(self.path_words[1])
        return w.u[:, channel].sum(0), w.v[channel], (
            _("the {many} summed, channel {c}: before the selection").format(many=many, c=channel),
            _("V_{c}: the weighted sum, after").format(c=channel))

    def feature_map_reading(self, w: Walkthrough, channel: int) -> str:
        one, many = (_(word) for word in self.path_words)
        shares = ", ".join(f"{name} = {float(weight):.2f}" for name, weight in
                           zip(self.path_names(len(w.weights)), w.weights[:, channel]))
        return _("What the selection does to channel {channel} of this photo: left, the {many} simply summed; "
                 "right, each {one} weighted by its share ({shares}) before the sum. Both maps share one colour "
                 "scale.").format(channel=channel, many=many, one=one, shares=shares)

    @staticmethod
    def fuse_rows(w: Walkthrough, channel: int) -> list[tuple[str, str, str]]:
        """The rows every selection shares: C, d, s_c, |z|."""
        c = channel
        return [("C", _("channels of the unit"), str(w.channels)), ("d", _("size of the compressed vector z"), str(w.d)),
                (f"s_{c}", _("fused descriptor of channel {c}").format(c=c), f"{w.s_fused[c]:.4f}"),
                ("‖z‖", _("length of z (shared by all channels)"), f"{np.linalg.norm(w.z):.4f}")]
