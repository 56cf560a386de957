"""Expensive work on a shared server: computed once, and a few at a time.

``SharedResults`` keeps results of long jobs (class profiles) for every session: the same job asked
by two sessions at once is computed once, the second waiting for the first. ``JobQueue`` lets at
most N heavy jobs run at once in the process; the others wait in arrival order and are told how
many jobs are ahead of them.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future
from contextlib import contextmanager
from collections.abc import Callable, Hashable, Iterator


class SharedResults:
    """Least-recently-used results by key; a missing key is computed by one caller only."""

    def __init__(self, max_entries: int = 16) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict = OrderedDict()
        self._flights: dict[Hashable, Future] = {}
        self._waiters: dict[Hashable, int] = {}
        self._lock = threading.Lock()
        self.computed = 0  # jobs actually run (for tests and benches)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def in_flight(self, key: Hashable) -> bool:
        """True while some session is computing ``key``."""
        with self._lock:
            return key in self._flights

    def waiting(self, key: Hashable) -> int:
        """Callers waiting for another caller's computation of ``key``."""
        with self._lock:
            return self._waiters.get(key, 0)

    def get(self, key: Hashable, compute: Callable[[], object] | None = None):
        """The result for ``key``: stored, being computed by another caller (wait for it), or
        computed now with ``compute``. Raises KeyError when missing and no ``compute`` is given;
        a failed computation raises in every caller waiting for it and stores nothing."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
            flight = self._flights.get(key)
            if flight is None:
                if compute is None:
                    raise KeyError(key)
                flight = self._flights[key] = Future()
                owner: Callable[[], object] | None = compute
            else:
                owner = None
        if owner is None:
            return self._wait(key, flight)
        return self._compute(key, flight, owner)

    def _wait(self, key: Hashable, flight: Future) -> object:
        """Another caller's computation of ``key``: its result, or its exception raised here."""
        with self._lock:
            self._waiters[key] = self._waiters.get(key, 0) + 1
        try:
            return flight.result()
        finally:
            with self._lock:
                self._waiters[key] -= 1
                if not self._waiters[key]:
                    del self._waiters[key]

    def _compute(self, key: Hashable, flight: Future, compute: Callable[[], object]) -> object:
        """This caller's computation of ``key``: stored and handed to every waiter on ``flight``."""
        try:
            value = compute()
        except BaseException as exc:
            with self._lock:
                del self._flights[key]
            flight.set_exception(exc)
            raise
        with self._lock:
            self.computed += 1
            self._entries[key] = value
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
            del self._flights[key]
        flight.set_result(value)
        return value


class JobQueue:
    """At most ``slots`` jobs run at once; the others wait in the order they came."""

    def __init__(self, slots: int = 1) -> None:
        if slots < 1:
            raise ValueError("a job queue needs at least one slot")
        self.slots = slots
        self._running = 0
        self._waiting: list[object] = []
        self._changed = threading.Condition()

    def ahead(self, ticket: object) -> int:
        """Jobs that run or wait before ``ticket`` (0: it may start)."""
        with self._changed:
            return self._ahead(ticket)

    def _ahead(self, ticket: object) -> int:
        place = self._waiting.index(ticket)
        if place == 0 and self._running < self.slots:
            return 0
        return self._running + place

    @contextmanager
    def slot(self, on_wait: Callable[[int], None] | None = None, poll_seconds: float = 0.5) -> Iterator[None]:
        """Wait for a free slot, then run the body in it. ``on_wait(jobs_ahead)`` is called while
        waiting (from the waiting thread, outside the queue's lock) every ``poll_seconds``."""
        ticket = object()
        with self._changed:
            self._waiting.append(ticket)
        try:
            while True:
                with self._changed:
                    ahead = self._ahead(ticket)
                    if ahead == 0:
                        self._waiting.remove(ticket)
                        self._running += 1
                        break
                if on_wait is not None:
                    on_wait(ahead)
                with self._changed:
                    self._changed.wait(poll_seconds)
        except BaseException:
            with self._changed:
                if ticket in self._waiting:
                    self._waiting.remove(ticket)
                self._changed.notify_all()
            raise
        try:
            yield
        finally:
            with self._changed:
                self._running -= 1
                self._changed.notify_all()
