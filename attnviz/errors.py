"""User-facing errors.

Every error a person can cause (a bad file, an unknown model, no network) is raised as an
``AttnvizError`` whose message names the thing and says what to do. The CLI prints the message on
one line and the app shows it beside the input; neither shows a traceback.
"""
from __future__ import annotations

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
