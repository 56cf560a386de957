"""What the costly files of issue 26 (items 2 and 3) cost the server, before and after the decode
budget; and what the decoder processes cost an ordinary photo.

    python bench/hostile_decode.py                       # the files, this tree's decoder
    python bench/hostile_decode.py --before b0ab357      # the same files, the decoder of a commit
    python bench/hostile_decode.py --photos              # ms per sample photo, in process vs workers

Each file is decoded by ``attnviz.serving.inputs.decode`` (what the app calls for an upload) in a
fresh Python process, as the server would, and measured from /proc: the server process's peak
resident memory above what it held before the decode (VmHWM after clear_refs), the decoder
processes' peak (their maxrss, read when they have ended), the peak of the server and its decoders
together (VmRSS summed every 50 ms), CPU seconds of both, and wall time. ``--copies N`` decodes N
copies at once, one thread each, as N sessions would. A
decode still running after ``--timeout`` seconds is killed; its figures are then the last /proc
readings. The files are built by tests/hostile.py (``costly_files``) before any measurement.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MiB = 1 << 20


def _proc_figures(pid: int) -> tuple[float, float]:
    """(peak RSS in MiB, CPU seconds) of a running process, from /proc."""
    peak = 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return peak, 0.0
    return peak, cpu


def _family_rss() -> int:
    """Resident bytes of this process and its child processes (the decoders), from /proc."""
    total, pids = 0, [os.getpid()]
    for tid in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError):
            pids += [int(p) for p in Path(f"/proc/self/task/{tid}/children").read_text().split()]
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def child(path: Path, code: Path, copies: int) -> None:
    """Decode one file (``copies`` distinct copies at once, one thread each, as sessions would) as
    the server does, and print the figures as JSON."""
    sys.path.insert(0, str(code))
    import threading
    import warnings

    warnings.simplefilter("ignore")
    from attnviz.runtime.memory import peak_rss, reset_peak_rss, rss
    from attnviz.serving.inputs import ImageInput, decode

    data = path.read_bytes()
    items = [ImageInput(f"{i}_{path.name}", data + bytes(i)) for i in range(copies)]  # distinct bytes
    before = rss()
    reset_peak_rss()
    outcomes, done, family = [], threading.Event(), [_family_rss()]

    def sample() -> None:
        while not done.wait(0.05):
            family[0] = max(family[0], _family_rss())

    def one(item) -> None:
        try:
            out = decode(item)
            outcomes.append("decoded" if out.ok else f"refused: {out.error}")
        except Exception as exc:  # noqa: BLE001 - the old decoder let some escape
            outcomes.append(f"escaped: {type(exc).__name__}: {exc}")

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started, cpu0 = time.perf_counter(), time.process_time()
    threads = [threading.Thread(target=one, args=(item,)) for item in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
    done.set()
    sampler.join()
    server_peak = (peak_rss() - before) / MiB
    started_workers = 0
    try:
        from attnviz.serving.decoding import decoder_pool

        started_workers = decoder_pool().started
        decoder_pool().close()
    except ImportError:
        pass
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"outcome": outcomes[0], "wall": wall, "cpu": cpu + children.ru_utime + children.ru_stime,
                      "server_mib": server_peak, "worker_mib": children.ru_maxrss / 1024 if started_workers else 0.0,
                      "family_mib": (family[0] - before) / MiB}))


def measure(path: Path, code: Path, timeout: float, copies: int = 1) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, __file__, "--child", str(path), "--code", str(code),
                             "--copies", str(copies)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    deadline, last = time.monotonic() + timeout, (0.0, 0.0)
    while proc.poll() is None and time.monotonic() < deadline:
        last = _proc_figures(proc.pid)
        time.sleep(0.2)
    if proc.poll() is None:
        proc.kill()
        proc.wait()
        return {"outcome": f"still decoding after {timeout:.0f} s (killed)", "wall": timeout, "cpu": last[1],
                "server_mib": last[0], "worker_mib": 0.0, "family_mib": last[0]}
    return json.loads(proc.stdout.read().strip().splitlines()[-1])


def photos(code: Path) -> None:
    """Decode every sample photo in process and through the decoder processes; ms per photo."""
    sys.path.insert(0, str(code))
    from attnviz.serving.decoding import DecoderPool, DecoderSettings

    folder = ROOT.parent / "shared" / "data" / "imagenet-samples"
    files = sorted(folder.iterdir())
    data = [(p.name, p.read_bytes()) for p in files]
    rows = {}
    for label, workers in (("in process", 0), ("decoder processes (1)", 1), ("decoder processes (2)", 2)):
        pool = DecoderPool(DecoderSettings(workers=workers))
        pool.decode(data[0][1], data[0][0])  # warm: start a worker
        started = time.perf_counter()
        for name, raw in data:
            pool.decode(raw, name)
        rows[label] = (time.perf_counter() - started) / len(data) * 1000
        pool.close()
    print(f"{len(data)} sample photos ({sum(len(d) for _, d in data) / len(data) / 1024:.0f} KB each on average), "
          "one after another:")
    for label, ms in rows.items():
        print(f"  {label:24s} {ms:6.1f} ms per photo")
    base = rows["in process"]
    print(f"  overhead of the decoder process: {rows['decoder processes (1)'] - base:+.1f} ms per photo "
          f"({rows['decoder processes (1)'] / base:.2f}x)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", metavar="COMMIT", help="measure the decoder of this commit (git archive)")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--photos", action="store_true")
    parser.add_argument("--only", help="comma-separated file names")
    parser.add_argument("--copies", type=int, default=1, help="decode this many copies of each file at once")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--code", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.code, args.copies)
        return 0
    if args.photos:
        photos(args.code)
        return 0
    work = Path(tempfile.mkdtemp(prefix="attnviz-hostile-"))
    code = ROOT
    if args.before:
        code = work / "code"
        code.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.before, "attnviz"], check=True,
                                 capture_output=True).stdout
        with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
            tar.extractall(code, filter="data")
    sys.path.insert(0, str(ROOT / "tests"))
    from hostile import costly_files

    files = costly_files()
    wanted = set(args.only.split(",")) if args.only else set(files)
    print(f"decoder: {'commit ' + args.before if args.before else 'this tree'}; timeout {args.timeout:.0f} s; "
          f"{args.copies} cop{'y' if args.copies == 1 else 'ies'} of each file at once")
    print(f"{'file':24s} {'size':>9s} {'server +MiB':>11s} {'decoder MiB':>11s} {'all +MiB':>9s} {'CPU s':>7s} "
          f"{'wall s':>7s}  outcome")
    for name, data in files.items():
        if name not in wanted:
            continue
        path = work / name
        path.write_bytes(data)
        row = measure(path, code, args.timeout, args.copies)
        print(f"{name:24s} {len(data) / MiB:7.2f}MB {row['server_mib']:11.0f} {row['worker_mib']:11.0f} "
              f"{row['family_mib']:9.0f} {row['cpu']:7.1f} {row['wall']:7.1f}  {row['outcome'][:110]}", flush=True)
        path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
