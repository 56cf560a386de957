"""Hostile inputs that cost nothing to send: what each one costs the server before it is refused.

Each case runs in a fresh Python process (so its peak resident size is its own): the input is
made, the resident size and the peak are read from ``/proc/self/status`` (peak reset first), the
call the app makes on an upload is timed, and the growth of the peak is printed with the message
the visitor would see.

    python bench/hostile_inputs.py                  # every case
    python bench/hostile_inputs.py --case weights_400k
    PYTHONPATH=/tmp/before python bench/hostile_inputs.py   # the same cases against older code

Against code that builds the model before checking (before issue 26), ``weights_3m`` asks for
24.6 GB: give it ``--case`` one at a time on a machine that has the memory, or leave it out.

Cases (issue 26): a safetensors file of 80-odd bytes whose ``fc.weight`` has shape (400000, 0) or
(3000000, 0), for seresnet50 (a local weights file); a 32 MB class-profile upload holding 30 MB of
class names; a 64 MB zip whose central directory lists 1.2 million entries.
"""
from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))   # the hostile files are the tests' (tests/hostile.py)
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
        from attnviz.models.zoo import catalogue

        catalogue.timm_names()  # warm, as on a running server: imports and timm's model list
        folder = Path(tempfile.mkdtemp())
        path = folder / "w.safetensors"
        path.write_bytes(safetensors_bytes({"fc.weight": ("F32", [rows, 0])}))
        return path

    def call(path):
        from attnviz.models.zoo import load_model

        load_model("seresnet50", weights=path, device="cpu")
    return make, call


def names_profile(loaded, classes: int = 1000, chars: int = 15_000) -> bytes:
    """A real profile of ``loaded`` (one grey image) whose ``classes`` class names have ``chars``
    characters each (stored twice: as names and as class folders): 30 MB of names in a 32 MB
    file, as in the issue."""
    from PIL import Image

    from attnviz.profiles.builder import profile_images

    names = [f"{k:05d}" + "x" * (chars - 5) for k in range(classes)]
    profile = profile_images(loaded, [Image.new("RGB", (64, 64), (128, 128, 128))], [0], names)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "names.profile.safetensors"
        profile.save(path)
        return path.read_bytes()


def profile_case(classes: int = 1000):
    def make():
        from attnviz.models.architectures import build_architecture
        from attnviz.models.zoo import wrap_model

        loaded = wrap_model(build_architecture("se_resnet18_half", 10), "se_resnet18_half",
                            [f"class {k}" for k in range(10)],
                            data_config={"input_size": (3, 64, 64), "interpolation": "bilinear",
                                         "mean": (0.5,) * 3, "std": (0.25,) * 3, "crop_pct": 1.0})
        data = names_profile(loaded, classes)
        print(f"upload: {len(data) / 1e6:.1f} MB", file=sys.stderr)  # noqa: T201
        return data, loaded

    def call(made):
        from attnviz.profiles.profile import profile_from_bytes
        from attnviz.views import compare

        data, loaded = made
        profile = profile_from_bytes(data, "names.profile.safetensors", loaded)
        # What the page then draws: the first ten classes, every block.
        compare.compare_charts(profile, compare.CompareOptions(blocks=profile.gate_names, classes=list(range(10)),
                                                               similarity_block=profile.gate_names[-1]))
    return make, call


def zip_case():
    def make():
        import attnviz.serving  # noqa: F401 - imported, as on a running server

        from hostile import many_entries_zip

        data = many_entries_zip(1_200_000)
        print(f"zip: {len(data) / 1e6:.1f} MB", file=sys.stderr)  # noqa: T201
        return data

    def call(data):
        from attnviz.serving import ServerLimits, read_zip_classes

        read_zip_classes(data, "many.zip", ServerLimits(), per_class=100)
    return make, call


CASES = {"weights_400k": weights_case(400_000), "weights_3m": weights_case(3_000_000),
         "profile_names": profile_case(),
         "profile_names_12mb": profile_case(400), "weights_50k": weights_case(50_000), "zip_entries": zip_case()}


def run_one(name: str) -> dict:
    from attnviz.runtime.memory import peak_rss, reset_peak_rss, rss

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
        made = " ".join(line for line in out.stderr.splitlines() if line.startswith(("upload:", "zip:")))
        print(f"{r['case']}: {made + '; ' if made else ''}{r['seconds']} s, peak +{r['peak_rise_mib']} MiB; "
              f"{r['message']}")


if __name__ == "__main__":
    main()
