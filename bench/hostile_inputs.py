"""Hostile inputs that cost nothing to send: what each one costs the server before it is refused.

Each case runs in a fresh Python process (so its peak resident size is its own): the input is
made, the resident size and the peak are read from ``/proc/self/status`` (peak reset first), the
call the app makes on an upload is timed, and the growth of the peak is printed with the message
the visitor would see.

    python bench/hostile_inputs.py                  # every case
    python bench/hostile_inputs.py --case weights_400k
    PYTHONPATH=/tmp/before python bench/hostile_inputs.py   # the same cases against older code

Cases (issue 26): a safetensors file of 80-odd bytes whose ``fc.weight`` has shape (400000, 0) or
(3000000, 0), for seresnet50 (a local weights file); a 32 MB class-profile upload holding 30 MB of
class names; a 64 MB zip whose central directory lists 1.2 million entries.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MiB = 2 ** 20


def safetensors_bytes(tensors: dict[str, tuple[str, list[int]]], metadata: dict | None = None,
                      data: bytes = b"") -> bytes:
    """A safetensors file from its header: {name: (dtype, shape)} with the data laid end to end."""
    sizes = {"F32": 4, "F64": 8, "I64": 8}
    header, offset = {}, 0
    for name, (dtype, shape) in tensors.items():
        n = sizes[dtype]
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    if metadata:
        header["__metadata__"] = metadata
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + (data or b"\0" * offset)


def weights_case(rows: int):
    def make():
        from attnviz.zoo import catalogue

        catalogue.timm_names()  # warm, as on a running server: imports and timm's model list
        folder = Path(tempfile.mkdtemp())
        path = folder / "w.safetensors"
        path.write_bytes(safetensors_bytes({"fc.weight": ("F32", [rows, 0])}))
        return path

    def call(path):
        from attnviz.zoo import load_model

        load_model("seresnet50", weights=path, device="cpu")
    return make, call


def names_profile(mb: int = 30) -> bytes:
    """A profile-shaped upload: one SE gate of 8 channels, and ``mb`` MB of class names."""
    classes = 30_000
    name = "x" * (mb * 1_000_000 // classes)
    meta = {"schema": 2, "model": "se_resnet18_half", "class_names": [f"{name}{k}" for k in range(classes)],
            "gates": [{"name": "layer1.0", "kind": "se", "channels": 8, "paths": 1}], "scales": [1.0]}
    tensors = {"count": ("I64", [1, classes]), "top1_correct": ("I64", [1, classes]),
               "bin_edges": ("F64", [3]), "mean/layer1.0": ("F64", [1, classes, 1, 8])}
    return safetensors_bytes(tensors, {"attnviz_profile": json.dumps(meta)})


def profile_case():
    def make():
        sys.path.insert(0, str(ROOT / "tests"))
        from attnviz.zoo import load_model

        return names_profile(), load_model("se_resnet18_half", device="cpu")

    def call(made):
        from attnviz.profiles import profile_from_bytes

        data, loaded = made
        profile_from_bytes(data, "names.profile.safetensors", loaded)
    return make, call


def many_entries_zip(entries: int = 1_200_000) -> bytes:
    """A zip whose central directory lists ``entries`` empty files (about 64 MB)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for i in range(entries):
            zf.writestr(zipfile.ZipInfo(f"c/{i}"), b"")
    return buf.getvalue()


def zip_case():
    def make():
        return many_entries_zip()

    def call(data):
        from attnviz.serving import ServerLimits, read_zip_classes

        read_zip_classes(data, "many.zip", ServerLimits(), per_class=100)
    return make, call


CASES = {"weights_400k": weights_case(400_000), "weights_3m": weights_case(3_000_000),
         "profile_names": profile_case(), "zip_entries": zip_case()}


def run_one(name: str) -> dict:
    from attnviz.memory import peak_rss, reset_peak_rss, rss

    make, call = CASES[name]
    made = make()
    base = rss()
    reset_peak_rss()
    started = time.perf_counter()
    try:
        call(made)
        message = "accepted"
    except Exception as exc:  # what the visitor would be told
        message = f"{type(exc).__name__}: {str(exc)[:160]}"
    seconds = time.perf_counter() - started
    return {"case": name, "seconds": round(seconds, 2), "peak_rise_mib": round((peak_rss() - base) / MiB, 1),
            "message": message}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", choices=sorted(CASES))
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.case)))
        return
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for name in [args.case] if args.case else CASES:
        out = subprocess.run([sys.executable, __file__, "--case", name, "--one"], env=env,
                             capture_output=True, text=True)
        lines = out.stdout.strip().splitlines()
        if out.returncode != 0 or not lines:
            print(f"{name}: the process died (rc {out.returncode}) {out.stderr.strip()[-300:]}")
            continue
        r = json.loads(lines[-1])
        print(f"{r['case']}: {r['seconds']} s, peak +{r['peak_rise_mib']} MiB; {r['message']}")


if __name__ == "__main__":
    main()
