"""When a visitor leaves, `streamlit run app.py` gives back what their session held and stops its work.

Driven with the scripted client (``streamlit_client.py``: Streamlit's websocket and upload endpoint,
no browser); the server runs through ``streamlit_probe.py``, which reports on SIGUSR1 what its
upload manager, sessions and decoder pool hold. Every wait is a condition polled a bounded number
of times (generous bounds: the machine may be loaded), never a sleep that orders events."""
from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
MiB = 2**20
#: What a closed session may leave in the server's resident size (allocator and interpreter
#: noise; its uploads here are 60 MB).
HELD_BUDGET = 24 * MiB
LOOKS = 600  # probes at most while waiting for a condition (each takes a round trip to the server)

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")]


def _png(colour, size=(64, 48)) -> bytes:
    import io

    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture()
def server(tmp_path, request):
    pytest.importorskip("websockets")
    from streamlit_client import start_app

    env = {"ATTNVIZ_SESSION_GRACE_S": "0", "OMP_NUM_THREADS": "1", "ATTNVIZ_SAMPLES": str(tmp_path / "none"),
           **getattr(request, "param", {})}
    probe_file = str(tmp_path / "probe.json")
    proc, base = start_app(str(ROOT / "app.py"), env, str(tmp_path / "server.log"), probe=probe_file)
    try:
        yield proc, base, probe_file
    finally:
        proc.terminate()
        proc.wait(60)


def _until(proc, probe_file, condition, what: str) -> dict:
    from streamlit_probe import probe

    for _ in range(LOOKS):
        state = probe(proc.pid, probe_file)
        if condition(state):
            return state
    raise AssertionError(f"{what}: not reached in {LOOKS} looks; last: {state}")


def test_a_closed_sessions_uploads_leave_the_upload_manager_and_its_memory_returns(server):
    from streamlit_probe import upload_and_leave

    proc, base, probe_file = server
    files = [(f"u{i}.jpg", os.urandom(20 * MiB)) for i in range(3)]
    session, before, during, statuses = asyncio.run(upload_and_leave(base, proc.pid, probe_file, files))
    assert statuses == [204] * 3
    # while the visitor is there, the server holds their 60 MB (so the check below can fail)
    assert during["uploads"].get(session) == 60 * MiB
    assert during["rss"] - before["rss"] > 50 * MiB
    after = _until(proc, probe_file, lambda s: session not in s["uploads"] and session not in s["active"]
                   and s["rss"] - before["rss"] <= HELD_BUDGET, "the closed session's memory given back")
    assert session not in after["uploads"] and after["rss"] - before["rss"] <= HELD_BUDGET


def _decoder_workers(server_pid: int) -> list[int]:
    """The server's decoder processes (its children running attnviz.images.decode_worker)."""
    pids = []
    for task in Path(f"/proc/{server_pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes() if Path(f"/proc/{child}").exists() else b""
            if b"attnviz.images.decode_worker" in cmdline:
                pids.append(int(child))
    return pids


def _alive(pid: int) -> bool:
    """Running or stopped; not gone and not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


@pytest.mark.parametrize("server", [{"ATTNVIZ_DECODE_WORKERS": "1", "ATTNVIZ_DECODE_WALL_SECONDS": "3600"}],
                         indirect=True)
def test_a_visitor_who_leaves_mid_decode_has_the_decode_cancelled_and_its_worker_killed(server):
    """The decode cannot end by itself: the one decoder process is stopped (SIGSTOP) before the
    file is given to it; only the cancellation when the session disconnects ends it."""
    from streamlit_client import Visitor

    proc, base, probe_file = server

    async def visit():
        visitor = await Visitor.open(base, page="explore")
        await visitor.run_finished()
        await visitor.upload("uploads", [("first.png", _png((200, 40, 40)))])
        first = await visitor.run_finished()
        assert "Top-5: first.png" in first.chart_titles()  # decoded by the one worker, now idle
        [worker] = _decoder_workers(proc.pid)
        os.kill(worker, signal.SIGSTOP)
        await visitor.upload("uploads", [("first.png", _png((200, 40, 40))), ("second.png", _png((40, 40, 200)))])
        session = visitor.session_id
        running = _until(proc, probe_file, lambda s: s["jobs"].get(session) == ["running"],
                         "the second file's decode running in the stopped worker")
        await visitor.close()
        return session, worker, running

    session, worker, running = asyncio.run(visit())
    try:
        assert running["cancelled"] == 0
        after = _until(proc, probe_file, lambda s: session not in s["jobs"] and s["cancelled"] == 1,
                       "the leaving session's decode cancelled")
        assert not _alive(worker), "the decoder process of the cancelled decode is still there"
        assert after["workers_started"] == 1
    finally:
        if _alive(worker):
            os.kill(worker, signal.SIGKILL)
