"""User-facing errors.

The error policy: every error a person can cause (a bad file, an unknown model or gate, a zoom
factor below 1, no network) is raised as an ``AttnvizError`` whose message is translated
(``attnviz.i18n``), names the thing and says what to do. The CLI prints the message on one line
and the app shows it beside the input; neither shows a traceback. Where callers have always
caught a built-in type for the same mistake, the subclass keeps it as a second base (``GateNotFound``
is a ``KeyError``, ``InvalidZoom`` a ``ValueError``), so that code written against the built-in
type still catches it. Errors that only a programming mistake can cause stay built-in exceptions.
"""
from __future__ import annotations

from collections.abc import Iterable

from .i18n import _


class AttnvizError(Exception):
    """An error whose message is meant for the person using attnviz."""


class ModelLoadError(AttnvizError):
    """A model name, weights file or download could not be turned into a model."""


class ImageLoadError(AttnvizError):
    """A file or upload could not be read as an image."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(_("{name}: {reason}").format(name=name, reason=reason))


class InvalidZoom(AttnvizError, ValueError):
    """A zoom factor (``attnviz.analysis.scale.zoom_factor``) that is not a number >= 1.0, or a list of them
    that is empty or names one twice."""


class InvalidChoice(AttnvizError, ValueError):
    """A value outside those offered: a path index a gate does not have, a chart style or image
    format not in the list, an empty set of images. A ValueError too, as it has always been."""


class NothingToShow(AttnvizError, ValueError):
    """A chart asked of a model that has none of the units it draws (an excitation heatmap of a
    network without SE-style gates, a selection chart of one without multi-path units)."""


class GateNotFound(AttnvizError, KeyError):
    """A gate name that a model, a profile, a sweep or a capture does not have. The one home of
    the "no gate" message; a KeyError too, as a lookup by name has always raised."""

    #: Names listed in the message at most (a user's network can have hundreds of gates).
    LISTED = 24

    def __init__(self, gate: str, owner: str, known: Iterable[str]) -> None:
        self.gate, self.owner, self.known = gate, owner, tuple(known)
        listed = ", ".join(self.known[:self.LISTED]) + (", …" if len(self.known) > self.LISTED else "")
        super().__init__(_("{model} has no gate {gate}; its gates are {gates}").format(
            model=owner, gate=repr(gate)[:80], gates=listed))

    def __str__(self) -> str:  # the message itself, not KeyError's repr of it
        return str(self.args[0])


class ScaleNotFound(AttnvizError, KeyError):
    """A zoom factor that a profile or a sweep was not made at (a KeyError too, as before)."""

    def __init__(self, scale: float, owner: str, known) -> None:
        self.scale, self.owner, self.known = scale, owner, tuple(known)
        super().__init__(_("{owner} has no scale {scale}; it has {scales}").format(
            owner=owner, scale=f"{scale:g}" if isinstance(scale, (int, float)) else repr(scale)[:40],
            scales=", ".join(f"{s:g}" for s in self.known)))

    def __str__(self) -> str:
        return str(self.args[0])


class StatisticsMissing(AttnvizError, KeyError):
    """A profile lacks statistics that were optional when it was made (per-channel histograms,
    paired scale statistics); the message says how to make them. A KeyError too, as before."""

    def __str__(self) -> str:
        return str(self.args[0])
