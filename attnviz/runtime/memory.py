"""Process memory: a budget for large transient allocations, and readings of the resident size.

A served app decodes images that visitors upload. Each decode needs memory in proportion to the
pixels the file declares, briefly; ``MemoryBudget`` makes concurrent decodes (one per browser
session thread) wait for each other, so their sum stays under a bound whatever the sessions do.
``return_freed_memory`` hands freed heap pages back to the system (glibc keeps them otherwise, and
the resident size would stay at its peak). The ``rss``/``peak_rss`` readings serve tests and
benchmarks (Linux ``/proc/self/status``).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import threading
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Iterator

MiB = 1 << 20


class MemoryBudget:
    """A counting semaphore in bytes: ``reserve(n)`` waits until n bytes fit under the total.

    A request larger than the whole budget waits until nothing else is reserved and then runs
    alone, so one oversized job cannot deadlock.
    """

    def __init__(self, total_bytes: int) -> None:
        self.total = int(total_bytes)
        self.used = 0
        self._changed = threading.Condition()

    @contextmanager
    def reserve(self, nbytes: int, stop: threading.Event | None = None) -> Iterator[None]:
        """Hold ``nbytes`` for the block. ``stop``: while waiting, a set event ends the wait with
        ``WaitStopped`` (the one who set it calls ``wake`` so that the waiters look again)."""
        need = min(max(int(nbytes), 0), self.total)
        with self._changed:
            self._changed.wait_for(lambda: self.used + need <= self.total or (stop is not None and stop.is_set()))
            if stop is not None and stop.is_set():
                raise WaitStopped
            self.used += need
        try:
            yield
        finally:
            with self._changed:
                self.used -= need
                self._changed.notify_all()

    def wake(self) -> None:
        """Make every waiter look at its ``stop`` event again."""
        with self._changed:
            self._changed.notify_all()


class WaitStopped(Exception):
    """A wait for memory ended by its ``stop`` event before the memory was free."""


def _libc():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


_LIBC = _libc()


def return_freed_memory() -> None:
    """Give freed heap memory back to the system (glibc's malloc_trim; a no-op elsewhere)."""
    trim = getattr(_LIBC, "malloc_trim", None)
    if trim is not None:
        trim(0)


def limit_heap_retention(threshold_bytes: int = 4 * MiB) -> None:
    """Serve allocations of ``threshold_bytes`` and more from their own mappings (glibc mallopt).

    glibc raises its mmap threshold after each large free, up to 32 MiB, and then keeps such
    blocks in the heap after they are freed; a server that decodes large images would hold its
    peak forever. A fixed threshold returns large blocks to the system as soon as they are freed.
    """
    mallopt = getattr(_LIBC, "mallopt", None)
    if mallopt is not None:
        M_MMAP_THRESHOLD = -3
        mallopt(M_MMAP_THRESHOLD, int(threshold_bytes))


def _status_kib(field: str, pid: int | str = "self") -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def rss(pid: int | str = "self") -> int | None:
    """Resident set size in bytes (None where /proc is not available)."""
    kib = _status_kib("VmRSS", pid)
    return None if kib is None else kib * 1024


def peak_rss(pid: int | str = "self") -> int | None:
    """Peak resident set size in bytes since the start, or since ``reset_peak_rss``."""
    kib = _status_kib("VmHWM", pid)
    return None if kib is None else kib * 1024


def reset_peak_rss(pid: int | str = "self") -> bool:
    """Start a new peak measurement (Linux: write 5 to clear_refs); False where unsupported."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False

