"""Process memory: the budget that serialises large decodes, and the RSS readings tests rely on."""
from __future__ import annotations

import threading
import time

import pytest

from attnviz.memory import MemoryBudget, peak_rss, reset_peak_rss, return_freed_memory, rss


def test_budget_never_exceeds_its_total_under_concurrency():
    budget = MemoryBudget(100)
    in_use, worst, lock = [0], [0], threading.Lock()

    def job(n):
        with budget.reserve(n):
            with lock:
                in_use[0] += n
                worst[0] = max(worst[0], in_use[0])
            time.sleep(0.01)
            with lock:
                in_use[0] -= n

    threads = [threading.Thread(target=job, args=(n,)) for n in [60, 50, 40, 30, 70, 20] * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert worst[0] <= 100 and budget.used == 0


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
