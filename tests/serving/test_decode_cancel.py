"""A visitor who leaves stops the work: the decoder pool cancels that session's decodes.

Synchronised on the pool's job states and on the worker process, never on time: the running
decode is made one that cannot finish (its worker is stopped with SIGSTOP before it is given the
file), so only the cancellation can end it."""
from __future__ import annotations

import os
import signal
import threading

import pytest

from attnviz.images.loading import DECODE_BUDGET
from attnviz.serving.decoding import CANCELLED, PENDING, RUNNING, DecodeCancelled, DecoderPool, DecoderSettings
from hostile import seed_files

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the decoder processes need POSIX")
WAIT = 120  # an upper bound on a condition's wait, far beyond what it needs


def _states(pool: DecoderPool, owner: str) -> list[str]:
    return [job.state for job in pool.jobs(owner)]


_thread = threading.local()  # the session a thread runs for, as Streamlit's script threads have


def _visit(pool: DecoderPool, outcomes: dict, owner: str, name: str, data: bytes) -> threading.Thread:
    def run():
        _thread.session = owner
        try:
            outcomes[name] = pool.decode(data, name)  # the owner: the pool's owner_lookup
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test looks at
            outcomes[name] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_leaving_sessions_running_and_pending_decodes_are_cancelled_and_its_worker_killed():
    photo = seed_files()["png_rgba.png"]
    pool = DecoderPool(DecoderSettings(workers=1, wall_seconds=3600))
    pool.owner_lookup = lambda: getattr(_thread, "session", None)
    try:
        pool.decode(photo, "warm.png")
        [pid] = pool.worker_pids()
        os.kill(pid, signal.SIGSTOP)  # the next file it is given never comes back: a decode without end
        outcomes: dict = {}
        running = _visit(pool, outcomes, "leaving", "slow.png", photo)
        assert pool.wait_for(lambda p: _states(p, "leaving") == [RUNNING], WAIT)
        [job] = pool.jobs("leaving")
        assert job.worker_pid == pid
        waiting = _visit(pool, outcomes, "leaving", "next.png", photo)     # waits for the one worker
        other = _visit(pool, outcomes, "staying", "other.png", photo)      # another visitor's, waiting too
        assert pool.wait_for(lambda p: _states(p, "leaving") == [RUNNING, PENDING]
                             and _states(p, "staying") == [PENDING], WAIT)

        assert pool.cancel("leaving") == 2
        running.join(WAIT)
        waiting.join(WAIT)
        assert not running.is_alive() and not waiting.is_alive()
        for name in ("slow.png", "next.png"):
            assert isinstance(outcomes[name], DecodeCancelled), outcomes[name]
            assert str(outcomes[name]) == f"{name}: not decoded: the session ended before it finished"
        assert job.state == CANCELLED and pool.jobs("leaving") == [] and pool.cancelled == 2
        assert not os.path.exists(f"/proc/{pid}")  # the worker was killed and reaped
        other.join(WAIT)
        assert outcomes["other.png"].size == (24, 16)  # the other session's decode went on, in a new worker
        assert pool.started == 2 and pool.jobs("staying") == []
    finally:
        pool.close()


def test_a_decode_waiting_for_memory_is_cancelled_without_a_worker():
    photo = seed_files()["png_rgba.png"]
    pool = DecoderPool(DecoderSettings(workers=1))
    pool.owner_lookup = lambda: getattr(_thread, "session", None)
    outcomes: dict = {}
    try:
        with DECODE_BUDGET.reserve(DECODE_BUDGET.total):  # all of the server's decode memory is taken
            thread = _visit(pool, outcomes, "leaving", "queued.png", photo)
            assert pool.wait_for(lambda p: _states(p, "leaving") == [PENDING], WAIT)
            assert pool.cancel("leaving") == 1
            thread.join(WAIT)
        assert isinstance(outcomes["queued.png"], DecodeCancelled)
        assert pool.started == 0 and pool.jobs("leaving") == []
        assert pool.cancel("leaving") == 0  # nothing left to cancel; later decodes are unaffected
        assert pool.decode(photo, "later.png", owner="leaving").size == (24, 16)
    finally:
        pool.close()
