"""Uploaded images decoded in worker processes, so that no file can hold a core or the memory.

Each file's cost is read from its structure first (``attnviz.images.loading.inspect_cost``): a file over
the stated limits is refused before any decoder sees it, and the memory the others need is
reserved under the process-wide ``DECODE_BUDGET`` (768 MiB), so concurrent decodes wait for each
other instead of adding up. The decode itself runs in one of a few persistent worker processes
(``python -m attnviz.images.decode_worker``: Pillow and numpy only) that set, before every file, a memory
limit of what the structure said plus a margin (RLIMIT_AS) and a CPU-time limit (RLIMIT_CPU); the
server kills a worker that has not answered within a wall-clock limit. A file that passes a limit
is refused by name with the limit it passed; the worker is replaced and the other files go on.
A session's decodes are its jobs (``DecodeJob``): when the session ends (the visitor left;
``attnviz.app.sessions``) they are cancelled, the waiting ones stop waiting and a running one's
worker is killed, so nobody's CPU or memory is spent on a page that no one will see.

Settings (environment): ``ATTNVIZ_DECODE_WORKERS`` (default 2; 0 decodes in the server process
under the budget alone, as the CLI does), ``ATTNVIZ_DECODE_CPU_SECONDS`` (default 10: a
64-megapixel PNG takes about 3 s here), ``ATTNVIZ_DECODE_WALL_SECONDS`` (default 30). Where ``resource`` is missing (Windows) only the
wall-clock limit holds.
"""
from __future__ import annotations

import atexit
import dataclasses
import json
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
import contextlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

from PIL import Image

from ..images.decode_worker import write_frames
from ..errors import AttnvizError, ImageLoadError
from ..i18n import _, current_language
from ..images.decode_cost import DecodeLimits
from ..images.loading import (DECODE_BUDGET, DECODE_LIMITS, DISPLAY_SIDE, MODEL_VIEW_ASPECT, MODEL_VIEW_SIDE, ImageViews, decode_views,
                      inspect_cost, memory_refusal, too_costly)
from ..runtime.memory import MiB, WaitStopped, return_freed_memory
from .limits import _env_int

log = logging.getLogger("attnviz.decoding")

#: Added to a file's estimated memory in the worker's limit: the decoder's own buffers, the
#: views it sends back, the reply.
MEMORY_MARGIN = 96 * MiB
_START_SECONDS = 60.0  # a worker's start (imports); far more than it needs on a busy machine


@dataclass(frozen=True)
class DecoderSettings:
    workers: int = 2               # ATTNVIZ_DECODE_WORKERS (0: decode in this process)
    cpu_seconds: float = 10.0      # ATTNVIZ_DECODE_CPU_SECONDS: CPU time one file may take
    wall_seconds: float = 30.0     # ATTNVIZ_DECODE_WALL_SECONDS: time one file may take in a worker
    limits: DecodeLimits = DECODE_LIMITS  # what a file's structure may cost (attnviz.images.decode_cost)

    @classmethod
    def from_environment(cls) -> DecoderSettings:
        return cls(workers=_env_int("ATTNVIZ_DECODE_WORKERS", cls.workers, 0),
                   cpu_seconds=float(_env_int("ATTNVIZ_DECODE_CPU_SECONDS", int(cls.cpu_seconds), 1)),
                   wall_seconds=float(_env_int("ATTNVIZ_DECODE_WALL_SECONDS", int(cls.wall_seconds), 1)))


class WorkerGone(Exception):
    """The worker ended or was ended before it answered; ``reason`` is the file's refusal."""

    def __init__(self, reason: ImageLoadError) -> None:
        super().__init__(reason.reason)
        self.reason = reason


def _worker_environment() -> dict[str, str]:
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join([package_root] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"  # one thread each: a decode is one core's work, and threads reserve memory
    return env


class _Worker:
    """One decoder process and its pipes; used by one thread at a time."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "attnviz.images.decode_worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env=_worker_environment(), close_fds=True)
        self._buffer = bytearray()
        hello = json.loads(self._read_frame(time.monotonic() + _START_SECONDS) or b"{}")
        if not hello.get("ready"):
            self.kill()
            raise RuntimeError("the image decoder process did not start")
        self.pid = int(hello["pid"])

    @property
    def _stdin(self) -> IO[bytes]:
        return cast(IO[bytes], self.proc.stdin)  # opened as a PIPE: never None

    @property
    def _stdout(self) -> IO[bytes]:
        return cast(IO[bytes], self.proc.stdout)  # opened as a PIPE: never None

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is None:
                continue
            with contextlib.suppress(OSError):
                pipe.close()

    def _read_exact(self, size: int, deadline: float) -> bytes | None:
        fd = self._stdout.fileno()
        while len(self._buffer) < size:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _w, _x = select.select([fd], [], [], min(left, 1.0))
            if not ready:
                continue
            chunk = os.read(fd, max(1 << 16, size - len(self._buffer)))
            if not chunk:
                return None
            self._buffer += chunk
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        return out

    def _read_frame(self, deadline: float) -> bytes | None:
        head = self._read_exact(8, deadline)
        if head is None:
            return None
        return self._read_exact(int.from_bytes(head, "big"), deadline)

    def decode(self, data: bytes, name: str, memory_bytes: int, settings: DecoderSettings) -> tuple[dict, list[bytes]]:
        header = {"name": name, "language": current_language(), "memory_bytes": memory_bytes,
                  "cpu_seconds": settings.cpu_seconds, "limits": dataclasses.asdict(settings.limits)}
        try:
            write_frames(self._stdin, json.dumps(header).encode(), data)
            deadline = time.monotonic() + settings.wall_seconds
            reply_frame = self._read_frame(deadline)
            if reply_frame is None:
                raise WorkerGone(self._why_it_ended(name, settings))
            reply = json.loads(reply_frame)
            blobs = []
            if reply.get("ok"):
                for _part in ("model", "display"):  # the decoded image for the model, then for display
                    blob = self._read_frame(deadline)
                    if blob is None:
                        raise WorkerGone(self._why_it_ended(name, settings))
                    blobs.append(blob)
            return reply, blobs
        except TimeoutError:
            self.kill()
            raise WorkerGone(too_costly(name, _("it was not decoded within {seconds:g} s").format(
                seconds=settings.wall_seconds))) from None
        except (BrokenPipeError, ValueError, OSError):
            raise WorkerGone(self._why_it_ended(name, settings)) from None

    def _why_it_ended(self, name: str, settings: DecoderSettings) -> ImageLoadError:
        self.kill()
        code = self.proc.returncode
        if code == -getattr(signal, "SIGXCPU", 24):
            return too_costly(name, _("it took more than {seconds:g} s of CPU time").format(
                seconds=settings.cpu_seconds))
        if code == -signal.SIGKILL:  # the kernel's out-of-memory killer
            return memory_refusal(name)
        return ImageLoadError(name, _("damaged file: the decoder stopped on it; re-export or re-download the file"))


def _views(name: str, reply: dict, blobs: list[bytes]) -> ImageViews:
    """The views a worker sent, checked: sizes within what a view may be, pixel counts exact."""
    model_w, model_h = (int(v) for v in reply["model"])
    display_w, display_h = (int(v) for v in reply["display"])
    longest_model = int(MODEL_VIEW_SIDE * MODEL_VIEW_ASPECT) + 1
    if not (0 < model_w <= longest_model and 0 < model_h <= longest_model and 0 < display_w <= DISPLAY_SIDE
            and 0 < display_h <= DISPLAY_SIDE and len(blobs[0]) == 3 * model_w * model_h
            and len(blobs[1]) == 3 * display_w * display_h):
        raise ImageLoadError(name, _("damaged file: the decoder stopped on it; re-export or re-download the file"))
    return ImageViews(model=Image.frombytes("RGB", (model_w, model_h), blobs[0]),
                      display=Image.frombytes("RGB", (display_w, display_h), blobs[1]),
                      size=(int(reply["size"][0]), int(reply["size"][1])),
                      notes=tuple(str(n) for n in reply.get("notes", ())))


class DecodeCancelled(AttnvizError):
    """The decode was cancelled before it finished: its session ended (the visitor left).

    Not an ``ImageLoadError``: the file is not at fault, so no cache may keep this as its result."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(_("{name}: not decoded: the session ended before it finished").format(name=name))


PENDING, RUNNING, DONE, CANCELLED = "pending", "running", "done", "cancelled"


@dataclass(eq=False)
class DecodeJob:
    """One file's decode in the pool, for the session (``owner``) that asked for it.

    ``state`` goes pending (waiting for memory or a worker) -> running (in a worker process,
    ``worker_pid``) -> done, or to cancelled from either."""

    name: str
    owner: str | None
    state: str = PENDING
    worker_pid: int | None = None
    stop: threading.Event = dataclasses.field(default_factory=threading.Event)
    _worker: _Worker | None = dataclasses.field(default=None, repr=False)


def _no_owner() -> str | None:
    return None


class DecoderPool:
    """At most ``settings.workers`` decodes at once, each in a worker process with its limits.

    Every decode is a ``DecodeJob`` of its owner (the session: ``owner=`` or, when not given, what
    ``owner_lookup()`` says for the calling thread). ``cancel(owner)`` ends that owner's jobs: a
    pending one stops waiting, a running one's worker process is killed; both raise
    ``DecodeCancelled``. Other owners' jobs go on."""

    def __init__(self, settings: DecoderSettings | None = None) -> None:
        self.settings = settings or DecoderSettings.from_environment()
        self._free_slots = max(1, self.settings.workers)
        self._idle: list[_Worker] = []
        self._lock = threading.RLock()  # re-entered by wait_for's predicates (jobs())
        self._changed = threading.Condition(self._lock)  # jobs' states, free worker slots
        self._jobs: dict[str | None, list[DecodeJob]] = {}
        self.owner_lookup = _no_owner
        self.started = 0      # worker processes started (tests and benches)
        self.cancelled = 0    # jobs cancelled (tests and benches)

    def _take(self) -> _Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive:
                    return worker
        worker = _Worker()
        with self._lock:
            self.started += 1
        return worker

    def _give_back(self, worker: _Worker) -> None:
        if worker.alive:
            with self._lock:
                self._idle.append(worker)

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.pid for w in self._idle if w.alive]

    # ------------------------------------------------------------------ jobs

    def jobs(self, owner: str | None) -> list[DecodeJob]:
        """The owner's jobs not yet finished."""
        with self._lock:
            return list(self._jobs.get(owner, ()))

    def wait_for(self, predicate, timeout: float | None = None) -> bool:
        """Wait until ``predicate(pool)`` holds (checked whenever a job changes state)."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self), timeout)

    def _set_state(self, job: DecodeJob, state: str, worker: _Worker | None = None) -> None:
        with self._changed:
            if job.stop.is_set() and state == RUNNING:
                raise DecodeCancelled(job.name)
            job.state, job._worker = state, worker
            job.worker_pid = worker.pid if worker is not None else job.worker_pid
            self.cancelled += state == CANCELLED
            if state in (DONE, CANCELLED):
                jobs = self._jobs.get(job.owner, [])
                if job in jobs:
                    jobs.remove(job)
                if not jobs:
                    self._jobs.pop(job.owner, None)
            self._changed.notify_all()

    def cancel(self, owner: str | None) -> int:
        """Cancel ``owner``'s pending and running decodes; returns how many. Quick and safe from
        any thread (Streamlit calls it on its event loop when a session disconnects): running
        workers are killed here, the decoding threads reap them and raise ``DecodeCancelled``."""
        with self._changed:
            jobs = list(self._jobs.get(owner, ()))
            for job in jobs:
                job.stop.set()
            self._changed.notify_all()
        DECODE_BUDGET.wake()
        for job in jobs:
            worker = job._worker
            if worker is not None and worker.alive:
                worker.proc.kill()  # its pipe closes: the reading thread wakes at once
        if jobs:
            log.info("cancelled %d decode(s) of session %s", len(jobs), owner)
        return len(jobs)

    @contextmanager
    def _slot(self, job: DecodeJob):
        with self._changed:
            self._changed.wait_for(lambda: self._free_slots > 0 or job.stop.is_set())
            if job.stop.is_set():
                raise DecodeCancelled(job.name)
            self._free_slots -= 1
        try:
            yield
        finally:
            with self._changed:
                self._free_slots += 1
                self._changed.notify_all()

    # ------------------------------------------------------------------ decoding

    def decode(self, data: bytes, name: str, owner: str | None = None) -> ImageViews:
        """The views of one file, or its ``ImageLoadError``; ``DecodeCancelled`` when its owner's
        decodes were cancelled before it finished."""
        limits = self.settings.limits
        cost = inspect_cost(data, name, max(MODEL_VIEW_SIDE, DISPLAY_SIDE), limits)
        job = DecodeJob(name, owner if owner is not None else self.owner_lookup())
        with self._changed:
            self._jobs.setdefault(job.owner, []).append(job)
        try:
            views = self._run(job, data, cost.bytes_needed)
        except WaitStopped:
            self._set_state(job, CANCELLED)
            raise DecodeCancelled(name) from None
        except DecodeCancelled:
            self._set_state(job, CANCELLED)
            raise
        except BaseException:
            self._set_state(job, DONE)
            raise
        self._set_state(job, DONE)
        return views

    def _run(self, job: DecodeJob, data: bytes, bytes_needed: int) -> ImageViews:
        name, limits = job.name, self.settings.limits
        if self.settings.workers == 0:
            with DECODE_BUDGET.reserve(bytes_needed, job.stop):
                self._set_state(job, RUNNING)
                try:
                    return decode_views(data, name, limits)[0]
                finally:
                    return_freed_memory()
        with DECODE_BUDGET.reserve(bytes_needed, job.stop), self._slot(job):
            try:
                worker = self._take()
            except (OSError, RuntimeError, ValueError):
                # No process can be started here (a sandbox, exhausted process table): decode in
                # this process, under the structure checks and the memory budget only.
                log.exception("the image decoder process could not be started; decoding in the server")
                self._set_state(job, RUNNING)
                try:
                    return decode_views(data, name, limits)[0]
                finally:
                    return_freed_memory()
            try:
                self._set_state(job, RUNNING, worker)
            except DecodeCancelled:
                self._give_back(worker)
                raise
            try:
                reply, blobs = worker.decode(data, name, bytes_needed + MEMORY_MARGIN, self.settings)
            except WorkerGone as gone:
                if job.stop.is_set():
                    raise DecodeCancelled(name) from None
                raise gone.reason from None
            finally:
                self._give_back(worker)
        if not reply.get("ok"):
            raise ImageLoadError(name, str(reply.get("reason", "")))
        return _views(name, reply, blobs)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()


_POOL: DecoderPool | None = None
_POOL_LOCK = threading.Lock()


def decoder_pool() -> DecoderPool:
    """The server's pool, started on first use and closed when the process exits."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = DecoderPool()
            atexit.register(_POOL.close)
        return _POOL
