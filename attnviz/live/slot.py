"""A one-frame mailbox between the camera and the model: the latest frame wins.

The camera delivers frames at its own rate (say 30 a second); the model analyses them at the
rate it can. A queue would grow without bound and make the values ever later than the picture,
so the slot holds one frame: a new one replaces the one waiting (counted as dropped), and the
analyser always takes the newest.
"""
from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestSlot(Generic[T]):
    """Holds at most one item. ``put`` never blocks; ``take`` waits for an item not taken yet."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._full = False
        self._closed = False
        self.put_count = 0      # items offered
        self.taken_count = 0    # items handed to the consumer
        self.dropped = 0        # items replaced before anyone took them

    def put(self, item: T) -> None:
        with self._cond:
            if self._closed:
                return
            if self._full:
                self.dropped += 1
            self._item, self._full = item, True
            self.put_count += 1
            self._cond.notify_all()

    def take(self, timeout: float | None = None) -> T | None:
        """The newest item, waiting up to ``timeout`` seconds for one; None on timeout or close."""
        with self._cond:
            self._cond.wait_for(lambda: self._full or self._closed, timeout)
            if not self._full:
                return None
            item, self._item, self._full = self._item, None, False
            self.taken_count += 1
            return item

    def close(self) -> None:
        """Wake the consumer and drop the waiting item (its memory goes with it)."""
        with self._cond:
            self._closed = True
            self._item, self._full = None, False
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed
