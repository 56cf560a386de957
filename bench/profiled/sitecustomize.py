"""Profile every thread of a Python process (cProfile), for bench/classroom.py --profile.

Put this folder on PYTHONPATH and set ATTNVIZ_PROFILE_OUT=path: every thread started after start-up
(Streamlit's script runs each get one) is profiled, and the merged statistics are written to
``path`` (pstats format) when the process receives SIGUSR1 or exits. SIGUSR2 starts afresh
(what was recorded so far, e.g. a warm-up, is dropped). The main thread (Streamlit's event loop)
is profiled too.
"""
from __future__ import annotations

import os

if os.environ.get("ATTNVIZ_PROFILE_OUT"):
    import atexit
    import cProfile
    import signal
    import threading

    _profiles: list[cProfile.Profile] = []
    _lock = threading.Lock()

    def _start(frame, event, arg):  # noqa: ARG001  threading.settrace callback signature; the first event of a new thread: give it a profiler of its own
        import sys

        sys.setprofile(None)
        profile = cProfile.Profile()
        with _lock:
            _profiles.append(profile)
        profile.enable()

    def _dump(*_args) -> None:
        import pstats

        with _lock:
            profiles = list(_profiles)
        for p in profiles:
            p.create_stats()
        stats = [p for p in profiles if p.stats]
        if stats:
            merged = pstats.Stats(stats[0])
            for p in stats[1:]:
                merged.add(p)
            merged.dump_stats(os.environ["ATTNVIZ_PROFILE_OUT"])

    def _restart(*_args) -> None:
        with _lock:
            for p in _profiles:
                p.clear()

    threading.setprofile(_start)
    _main = cProfile.Profile()
    _profiles.append(_main)
    _main.enable()
    signal.signal(signal.SIGUSR2, _restart)
    atexit.register(_dump)
    signal.signal(signal.SIGUSR1, _dump)
