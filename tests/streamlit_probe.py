"""``streamlit run`` that answers SIGUSR1 with what the server holds, for tests and benchmarks.

    python tests/streamlit_probe.py PROBE_FILE run app.py [streamlit options]

is ``streamlit run app.py [options]`` (Streamlit's own command line, in this process's main
thread); on SIGUSR1 it writes PROBE_FILE (JSON, written whole then renamed) with the server's
resident size, the bytes Streamlit's upload manager holds per session, the sessions it has
(active ones), and the decoder pool's
unfinished jobs per session (attnviz.serving.decoding). ``probe(pid, path)`` asks and reads.
"""
from __future__ import annotations

import gc
import json
import os
import signal
import sys
import time
from pathlib import Path


def _state() -> dict:
    from streamlit import runtime

    gc.collect()
    rt = runtime.get_instance()
    storage = rt.uploaded_file_mgr.file_storage
    from attnviz.runtime.memory import rss
    from attnviz.serving import decoding

    pool = decoding._POOL
    jobs: dict[str, list[str]] = {}
    if pool is not None:
        with pool._lock:
            for owner, owned in pool._jobs.items():
                jobs[str(owner)] = [job.state for job in owned]
    return {"rss": rss(), "time": time.monotonic(),
            "uploads": {sid: sum(len(rec.data) for rec in files.values()) for sid, files in storage.items()},
            "active": [sid for sid in list(rt._session_mgr._active_session_info_by_id)],
            "jobs": jobs, "cancelled": pool.cancelled if pool is not None else 0,
            "workers_started": pool.started if pool is not None else 0}


def _answer(path: str) -> None:
    tmp = f"{path}.tmp"
    try:
        state = _state()
    except Exception as exc:  # noqa: BLE001 - the prober reads the failure instead of waiting
        state = {"error": repr(exc)}
    Path(tmp).write_text(json.dumps(state))
    os.replace(tmp, path)


def probe(pid: int, path: str | Path, tries: int = 1200) -> dict:
    """Ask the server ``pid`` for its state and read it (polls for the answer file: at most
    ``tries`` looks, 50 ms apart)."""
    path = Path(path)
    path.unlink(missing_ok=True)
    os.kill(pid, signal.SIGUSR1)
    for _ in range(tries):
        if path.exists():
            state = json.loads(path.read_text())
            if "error" in state:
                raise RuntimeError(f"the server's probe failed: {state['error']}")
            return state
        time.sleep(0.05)
    raise TimeoutError(f"the server {pid} did not answer its probe")


async def upload_and_leave(base: str, pid: int, path: str | Path, files: list[tuple[str, bytes]],
                           key: str = "uploads") -> tuple[str, dict, dict, list[int]]:
    """One visitor on the Explore page of the server at ``base`` (process ``pid``) uploads
    ``files`` to the uploader ``key`` and closes the session: (its session id, the server's probe
    before the upload and after its run, the upload's HTTP statuses)."""
    from streamlit_client import Visitor

    visitor = await Visitor.open(base, page="explore")
    await visitor.run_finished()
    before = probe(pid, path)
    statuses = await visitor.upload(key, files)
    await visitor.run_finished()
    during = probe(pid, path)
    session = visitor.session_id
    await visitor.close()
    return session, before, during, statuses


def main() -> None:
    path = sys.argv[1]
    signal.signal(signal.SIGUSR1, lambda *_a: _answer(path))
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[2:]]  # "run", the app, its options
    cli.main()


if __name__ == "__main__":
    main()
