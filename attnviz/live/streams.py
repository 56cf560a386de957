"""The server's live streams: at most ``ATTNVIZ_MAX_LIVE`` at once, since each one keeps a share
of the CPU busy for as long as it runs. The one over the limit gets a message that names the
limit; a stream that ends (or is abandoned, see ``LiveStream``) gives its place back."""
from __future__ import annotations

import threading

from ..errors import AttnvizError
from ..i18n import _
from ..serving.limits import _env_int
from ..models.zoo import LoadedModel
from .stream import LiveStream

DEFAULT_MAX_LIVE = 4


def live_limit() -> int:
    """Live streams the server analyses at once (``ATTNVIZ_MAX_LIVE``, default 4)."""
    return _env_int("ATTNVIZ_MAX_LIVE", DEFAULT_MAX_LIVE, 1)


def limit_message(limit: int) -> str:
    """What the visitor over the limit reads (in the reader's language: call it in the page's run)."""
    return _("All {limit} live places of this server are taken (ATTNVIZ_MAX_LIVE={limit}); try again when a "
             "stream ends, or look at a photo on the Explore page meanwhile.").format(limit=limit)


class LiveLimitError(AttnvizError):
    """Every live place is taken."""


class LiveStreams:
    """The live streams of one server process."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = live_limit() if limit is None else int(limit)
        self._streams: set[LiveStream] = set()
        self._lock = threading.Lock()

    @property
    def active(self) -> int:
        with self._lock:
            return len(self._streams)

    def open(self, loaded: LoadedModel, gate: str, **options) -> LiveStream:
        """A started stream, or LiveLimitError when ``limit`` streams run already."""
        with self._lock:
            if len(self._streams) >= self.limit:
                raise LiveLimitError(limit_message(self.limit))
            stream = LiveStream(loaded, gate, on_close=self._release, **options)
            self._streams.add(stream)
        return stream.start()

    def _release(self, stream: LiveStream) -> None:
        with self._lock:
            self._streams.discard(stream)

    def close_all(self) -> None:
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            stream.close()
