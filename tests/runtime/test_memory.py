"""Process memory: the budget that serialises large decodes, and the RSS readings tests rely on."""
from __future__ import annotations

import queue
import threading

import pytest

from attnviz.runtime.memory import MemoryBudget, peak_rss, reset_peak_rss, return_freed_memory, rss


def test_budget_never_exceeds_its_total_under_concurrency():
    """Each job holds its reservation until the test releases it (events, not sleeps): jobs pile
    up inside the budget as far as it allows, and are let go one at a time."""
    budget = MemoryBudget(100)
    in_use, worst, lock = [0], [0], threading.Lock()
    entered: queue.Queue = queue.Queue()

    def job(n):
        with budget.reserve(n):
            with lock:
                in_use[0] += n
                worst[0] = max(worst[0], in_use[0])
            leave = threading.Event()
            entered.put((n, leave))
            leave.wait(30)
            with lock:
                in_use[0] -= n

    sizes = [60, 50, 40, 30, 70, 20] * 3
    threads = [threading.Thread(target=job, args=(n,)) for n in sizes]
    for t in threads:
        t.start()
    released = []
    for _ in sizes:
        n, leave = entered.get(timeout=30)  # some job is inside the budget now
        assert budget.used <= 100
        released.append(n)
        leave.set()
    for t in threads:
        t.join(30)
    assert sorted(released) == sorted(sizes) and worst[0] <= 100 and budget.used == 0


def test_an_oversized_request_runs_alone_instead_of_deadlocking():
    budget = MemoryBudget(10)
    with budget.reserve(1000):
        assert budget.used == 10
    assert budget.used == 0


def test_rss_readings():
    if rss() is None:
        pytest.skip("no /proc here")
    assert peak_rss() >= rss() > 0
    if reset_peak_rss():
        block = bytearray(200 * 2**20)
        block[::4096] = b"x" * len(block[::4096])  # touch every page
        assert peak_rss() >= rss() >= 200 * 2**20
        del block
        return_freed_memory()
