"""A decoder process: decodes uploaded images one at a time under a memory and a CPU-time limit.

Run as ``python -m attnviz.images.decode_worker`` by ``attnviz.serving.decoding``; it imports Pillow,
numpy and ``attnviz.images.loading`` only (no torch, no Streamlit), so it starts in a fraction of a second
and holds little memory. Before each file it sets its own limits (``resource.setrlimit``):

* RLIMIT_AS: its address space now plus what the file's structure says the decode needs (with a
  margin), so a file that costs more than it declares ends in a MemoryError, not in the server's
  memory;
* RLIMIT_CPU: its CPU time so far plus the decode's allowance; past it the kernel ends the process
  (SIGXCPU), so no file holds a core. The server also kills it after a wall-clock timeout.

The protocol on stdin/stdout is length-prefixed frames: a JSON header, then raw bytes. Replies
carry JSON and raw RGB pixels only, never a pickle: a decoder that hostile bytes took over cannot
make the server run anything.
"""
from __future__ import annotations

import json
import os
import struct
import sys
from typing import IO, BinaryIO

_LENGTH = struct.Struct(">Q")


def read_frame(stream: BinaryIO) -> bytes | None:
    """One frame, or None at the end of the stream."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (size,) = _LENGTH.unpack(head)
    body = stream.read(size)
    return body if len(body) == size else None


def write_frames(stream: IO[bytes], *frames: bytes) -> None:
    for frame in frames:
        stream.write(_LENGTH.pack(len(frame)))
        stream.write(frame)
    stream.flush()


def _vm_bytes() -> int:
    """This process's address space now (Linux /proc), 0 where it cannot be read."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _limit(memory_bytes: int | None, cpu_seconds: float | None) -> None:
    try:
        import resource
    except ImportError:  # not a POSIX system: the server's wall-clock timeout still applies
        return
    if memory_bytes is not None and _vm_bytes():
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        want = _vm_bytes() + int(memory_bytes)
        resource.setrlimit(resource.RLIMIT_AS, (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))
    if cpu_seconds is not None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        want = int(usage.ru_utime + usage.ru_stime + cpu_seconds) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))


def _lift_memory_limit() -> None:
    try:
        import resource
    except ImportError:
        return
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


def _pixels(image) -> bytes:
    return image.convert("RGB").tobytes()


def serve(inp: BinaryIO, out: BinaryIO) -> None:
    """Decode requests from ``inp`` until it closes; one reply per request on ``out``."""
    from ..errors import ImageLoadError
    from ..i18n import language
    from .decode_cost import DecodeLimits
    from .loading import DECODE_LIMITS, MemoryRefusal, decode_views, memory_refusal
    from ..runtime.memory import return_freed_memory

    write_frames(out, json.dumps({"ready": True, "pid": os.getpid()}).encode())
    while True:
        header = read_frame(inp)
        if header is None:
            return
        data = read_frame(inp)
        if data is None:
            return
        request = json.loads(header)
        name = request["name"]
        stop = False
        blobs: list[bytes] = []
        with language(request.get("language")):
            try:
                _limit(request.get("memory_bytes"), request.get("cpu_seconds"))
                limits = DecodeLimits(**request["limits"]) if request.get("limits") else DECODE_LIMITS
                views, _cost = decode_views(data, name, limits)
                blobs = [_pixels(views.model), _pixels(views.display)]
                reply = {"ok": True, "size": list(views.size), "notes": list(views.notes),
                         "model": list(views.model.size), "display": list(views.display.size)}
            except ImageLoadError as exc:
                reply = {"ok": False, "reason": exc.reason}
                stop = isinstance(exc, MemoryRefusal) and exc.exhausted  # after a MemoryError, start afresh
            except MemoryError:
                blobs = []
                reply = {"ok": False, "reason": memory_refusal(name).reason}
                stop = True
            finally:
                _lift_memory_limit()
        del data
        write_frames(out, json.dumps(reply).encode(), *blobs)
        del blobs
        return_freed_memory()
        if stop:
            return


def main() -> None:
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing a library prints may corrupt the replies
    serve(sys.stdin.buffer, out)


if __name__ == "__main__":
    main()
