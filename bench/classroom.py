"""A class at the server: N sessions at once, measured where the work is done.

Starts ``streamlit run app.py`` on a free loopback port (127.0.0.1 only; default settings, the
bundled models) and drives N sessions from this one process with Streamlit's own protocol (the
websocket and the upload endpoint, ``tests/streamlit_client.py``): nothing is rendered, so the
figures are the server's alone. Two modes:

``photos`` (default): every session opens Explore, then all upload their photos at the same moment
(distinct files from ``../shared/data/imagenet-samples``; a photo used twice gets bytes appended
after its end, so no session is served from another's cache). Reported: the time from a session's
upload to the last chart of the run that shows them (median, p95, max), the server's CPU time per
photo (utime+stime from /proc/<pid>/stat over the phase) and its peak memory (VmHWM, reset before
the uploads; the decoder worker processes' CPU is counted with the server's).

``first-page``: N visitors open the app's address (or ``--page``) at once (the page HTML, then the
websocket); reported: the time until each one's first words arrive (median, p95, max) and until
its first run ends (a run cut short for a rerun does not count: for ``--page explore``, until the
live example's charts are drawn). ``--cold`` opens them on a server no one has visited yet (PyTorch, the models and every
cache still to load); by default one visitor has been and gone first.

    python bench/classroom.py --sessions 30 --photos 1
    python bench/classroom.py --sessions 8 --photos 12
    python bench/classroom.py --mode first-page --sessions 30 [--cold] [--page explore]
    python bench/classroom.py --sessions 30 --photos 1 --profile /tmp/class.pstats   # where the time goes

``--profile PATH``: the server runs under cProfile (every thread, ``bench/profiled/sitecustomize.py``),
recording the photos phase only; read it with ``python -m pstats PATH`` (``sort cumtime``). Times
are then inflated by the profiler (about 2x): profile and measure in separate runs.
``--py-spy PATH``: sample the server with ``py-spy record --gil`` (only samples that hold the GIL,
i.e. the server's Python CPU time) over the photos phase, collapsed stacks written to PATH
(``pip install py-spy``); summarise with ``python bench/spy_summary.py PATH``.

Goals (2-core machine, bundled se_resnet18_imagenette): 30 sessions x 1 photo p95 <= 3 s;
8 sessions x 12 photos p95 <= 15 s; 30 visitors see text within 3 s.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from attnviz.runtime.memory import peak_rss, reset_peak_rss, rss  # noqa: E402
from streamlit_client import Visitor, start_app  # noqa: E402

SAMPLES = ROOT.parent / "shared" / "data" / "imagenet-samples"
MiB = 2**20


def descendants(pid: int) -> list[int]:
    """The process and its living descendants (the server's decoder workers)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for children in Path(f"/proc/{p}/task").glob("*/children"):
            try:
                todo += [int(c) for c in children.read_text().split()]
            except OSError:
                continue
    return out


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its descendants (waited-for children included), in seconds."""
    total = 0
    for p in descendants(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(v) for v in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def photos_for(sessions: int, count: int) -> list[list[tuple[str, bytes]]]:
    photos = sorted(SAMPLES.glob("*.JPEG"))
    if not photos:
        sys.exit(f"no sample photos in {SAMPLES}")
    out = []
    for s in range(sessions):
        mine = []
        for j in range(count):
            n = s * count + j
            path = photos[n % len(photos)]
            data = path.read_bytes() + (f"copy {n // len(photos)}".encode() if n >= len(photos) else b"")
            mine.append((f"s{s}_{path.name}", data))
        out.append(mine)
    return out


def quantiles(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, max(0, round(0.95 * len(values)) - 1))]
    return f"median {statistics.median(values):.2f} s, p95 {p95:.2f} s, max {values[-1]:.2f} s"


async def warm_up(base: str) -> None:
    """One visitor loads the model and draws a photo's charts, then leaves (a running server)."""
    visitor = await Visitor.open(base, page="explore")
    await visitor.run_finished()
    await visitor.upload("uploads", [("warm-up.jpg", (SAMPLES / "n01443537_goldfish.JPEG").read_bytes()
                                      + b"warm-up")])
    await visitor.run_finished()
    await visitor.close()


async def one_class(base: str, pid: int, sessions: int, count: int, timeout: float) -> dict:
    files = photos_for(sessions, count)
    visitors = await asyncio.gather(*(Visitor.open(base, page="explore") for _ in range(sessions)))
    await asyncio.gather(*(v.run_finished(timeout) for v in visitors))
    before, cpu0 = rss(pid), cpu_seconds(pid)
    reset_peak_rss(pid)

    async def send(visitor: Visitor, mine: list[tuple[str, bytes]]) -> float:
        started = time.monotonic()
        statuses = await visitor.upload("uploads", mine)
        assert all(s == 204 for s in statuses), statuses
        # The full run that shows the photos may be followed by fragment runs (the detail block):
        # the charts of all of them count, up to the first full run that has every top-5.
        titles: set[str] = set()
        last = started
        while True:
            run = await visitor.run_finished(timeout)
            titles |= set(run.chart_titles())
            last = max(last, run.last("plotly_chart") or last)
            # Long titles are wrapped (<br>) to fit their chart: compare them without the breaks.
            flat = {"".join(t.replace("<br>", " ").split()) for t in titles}
            missing = [name for name, _d in mine if f"Top-5:{''.join(name.split())}" not in flat]
            if not missing:
                return last - started
            if run.status == 0:  # a full run ended without them
                said = [line for line in run.texts().splitlines() if missing[0] in line] or [run.texts()[-300:]]
                tops = sorted(t for t in titles if t.startswith("Top-5"))
                raise RuntimeError(f"no top-5 chart for {missing[:3]} among {tops[:4]} (the page said: {said[:1]})")

    started = time.monotonic()
    times = await asyncio.gather(*(send(v, mine) for v, mine in zip(visitors, files, strict=True)))
    wall = time.monotonic() - started
    cpu = cpu_seconds(pid) - cpu0
    peak = peak_rss(pid)
    await asyncio.gather(*(v.close() for v in visitors))
    return {"times": times, "wall": wall, "cpu_per_photo": cpu / (sessions * count), "cpu": cpu,
            "before": before, "peak": peak}


async def first_page(base: str, sessions: int, timeout: float, page: str = "") -> dict:
    async def visit() -> tuple[float, float]:
        started = time.monotonic()
        await asyncio.to_thread(lambda: urllib.request.urlopen(f"{base}/{page}", timeout=timeout).read())
        visitor = await Visitor.open(base, page=page)
        run = await visitor.run_finished(timeout)
        text = run.first_text()
        await visitor.close()
        return (text if text is not None else float("nan")) - started, run.finished - started

    results = await asyncio.gather(*(visit() for _ in range(sessions)))
    return {"text": [t for t, _f in results], "finished": [f for _t, f in results]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["photos", "first-page"], default="photos")
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--photos", type=int, default=1, help="photos per session")
    parser.add_argument("--cold", action="store_true", help="first-page: no visitor before")
    parser.add_argument("--page", default="", help="first-page: the page the visitors open (default: home; "
                        "explore opens on the live example)")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--profile", metavar="PATH", help="write the server's cProfile statistics of the phase here")
    parser.add_argument("--py-spy", metavar="PATH", dest="py_spy",
                        help="sample the server with py-spy --gil over the phase, collapsed stacks to PATH")
    parser.add_argument("--option", action="append", default=[],
                        help="extra `streamlit run` option, e.g. --option=--server.maxUploadSize=64")
    args = parser.parse_args()
    env = {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    if args.profile:
        env.update(PYTHONPATH=os.pathsep.join([str(ROOT / "bench" / "profiled"), os.environ.get("PYTHONPATH", "")]),
                   ATTNVIZ_PROFILE_OUT=str(Path(args.profile).resolve()))
    proc, base = start_app(str(ROOT / "app.py"), env, "/tmp/attnviz-classroom.log", options=tuple(args.option))
    try:
        print(f"before: {load()}", flush=True)
        if args.mode == "first-page":
            if not args.cold:
                asyncio.run(warm_up(base))
            result = asyncio.run(first_page(base, args.sessions, args.timeout, args.page))
            print(f"{args.sessions} visitors at once on /{args.page} ({'cold' if args.cold else 'warm'} server): first words "
                  f"{quantiles(result['text'])}; first run ended {quantiles(result['finished'])}")
        else:
            asyncio.run(warm_up(base))
            if args.profile:
                os.kill(proc.pid, signal.SIGUSR2)  # the warm-up is not recorded
            spy = subprocess.Popen(["py-spy", "record", "--gil", "-r", "200", "-f", "raw",
                                    "-o", args.py_spy, "--pid", str(proc.pid)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) if args.py_spy else None
            if spy is not None:
                time.sleep(2)  # py-spy attaches
            r = asyncio.run(one_class(base, proc.pid, args.sessions, args.photos, args.timeout))
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(60)
            print(f"{args.sessions} sessions x {args.photos} photo(s), uploaded at once: upload to last chart "
                  f"{quantiles(r['times'])}; all done in {r['wall']:.1f} s")
            print(f"server CPU {r['cpu']:.1f} s = {1000 * r['cpu_per_photo']:.0f} ms per photo; memory "
                  f"{r['before'] / MiB:.0f} MiB before, peak {r['peak'] / MiB:.0f} MiB "
                  f"(+{(r['peak'] - r['before']) / MiB:.0f})")
        print(f"after: {load()}")
        if args.profile:
            os.kill(proc.pid, signal.SIGUSR1)
            time.sleep(5)
            print(f"profile: {args.profile} (python -m pstats {args.profile})")
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except Exception:  # noqa: BLE001 - a server that ignores SIGTERM is killed
            proc.kill()


if __name__ == "__main__":
    main()
