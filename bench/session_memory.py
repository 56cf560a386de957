"""Server memory before, during and after a visitor's session: `streamlit run app.py` driven by the
scripted client (tests/streamlit_client.py), read from /proc every ``--every`` seconds.

    python bench/session_memory.py --files 3 --mb 20 --after 60

A visitor opens Explore, uploads ``--files`` random files of ``--mb`` MB (undecodable: what is
measured is what Streamlit and attnviz hold for the uploads, not a decode), waits for the run,
then leaves. Printed: resident size before the upload, during (after the run), and its readings
for ``--after`` seconds after the websocket closed, with the seconds until the session's uploads
left Streamlit's upload manager (tests/streamlit_probe.py answers SIGUSR1 with it)."""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
MiB = 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=3)
    ap.add_argument("--mb", type=int, default=20)
    ap.add_argument("--after", type=float, default=60.0, help="seconds to watch after the session closed")
    ap.add_argument("--every", type=float, default=1.0)
    ap.add_argument("--grace", default="0", help="ATTNVIZ_SESSION_GRACE_S for the server")
    args = ap.parse_args()
    from streamlit_client import Visitor, start_app
    from streamlit_probe import probe, upload_and_leave

    work = Path(tempfile.mkdtemp(prefix="session_memory_"))
    env = {"ATTNVIZ_SESSION_GRACE_S": args.grace, "OMP_NUM_THREADS": "1", "ATTNVIZ_SAMPLES": str(work / "none")}
    probe_file = str(work / "probe.json")
    proc, base = start_app(str(ROOT / "app.py"), env, str(work / "server.log"), probe=probe_file)
    try:
        async def visit():
            warm = await Visitor.open(base, page="explore")  # the model loaded, the first page served
            await warm.run_finished()
            await warm.close()
            files = [(f"u{i}.jpg", os.urandom(args.mb * MiB)) for i in range(args.files)]
            session, before, during, _statuses = await upload_and_leave(base, proc.pid, probe_file, files)
            return session, before, during

        session, before, during = asyncio.run(visit())
        closed = time.monotonic()
        print(f"load average {os.getloadavg()[0]:.1f}; {args.files} x {args.mb} MB uploaded")
        print(f"before: {before['rss'] / MiB:.0f} MiB; during: +{(during['rss'] - before['rss']) / MiB:.1f} MiB, "
              f"upload manager {during['uploads'].get(session, 0) / MiB:.0f} MiB for the session")
        released = None
        readings = []
        while (now := time.monotonic()) - closed < args.after:  # a polling loop: a measurement, not a test
            state = probe(proc.pid, probe_file)
            if released is None and session not in state["uploads"]:
                released = now - closed
            readings.append((now - closed, (state["rss"] - before["rss"]) / MiB))
            time.sleep(args.every)
        for t, above in readings[:: max(1, len(readings) // 12)] + readings[-1:]:
            print(f"  {t:5.1f} s after close: {above:+.1f} MiB")
        print(f"uploads left the upload manager {released:.1f} s after close" if released is not None
              else "uploads still in the upload manager")
        print(f"held {args.after:.0f} s after close: {readings[-1][1]:+.1f} MiB")
    finally:
        proc.terminate()
        proc.wait(60)


if __name__ == "__main__":
    main()
