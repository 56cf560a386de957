"""Prepare, on the development machine, what the GPU commands carry (README, "On a GPU").

Writes into bench/gpu/data/ (ignored by git, named in the device call's ``carry``):

* ``imagenette/train.npz``: Imagenette's train split re-encoded as WebP at the training size
  (``attnviz.training.train_gpu.pack_folder``), decoded once on the GPU machine by ``bench/gpu/train.py``;
* ``imagenet-samples/``: a few sample photos for ``bench/gpu/run.sh`` (the GPU tests and the
  app-latency figure; the tests find them through ATTNVIZ_SHARED_DATA).

Then it prints what each command would send (tracked + untracked-not-ignored files of the
repository, plus the carried paths) against the 64 MiB that may travel.

    python bench/gpu/prepare_data.py                     # from ../shared/data
    python bench/gpu/prepare_data.py --size 176 --quality 70 --val   # val too (if it fits)
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from attnviz.training.train_gpu import pack_folder  # noqa: E402

DATA = ROOT / "bench" / "gpu" / "data"
WHEELS = ROOT / "bench" / "gpu" / "wheels"
LIMIT = 64 * 2**20
# The photos the tests ask for by name (tests/conftest.py) and a few more classes.
SAMPLE_PHOTOS = ("n01440764_tench.JPEG", "n01443537_goldfish.JPEG", "n02110958_pug.JPEG",
                 "n02690373_airliner.JPEG", "n09246464_cliff.JPEG", "n03888257_parachute.JPEG")


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def repository_bytes() -> int:
    """What travels of the checkout itself: tracked files and untracked files git does not ignore."""
    names = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout.split(b"\0")
    return sum((ROOT / n.decode()).stat().st_size for n in names if n and (ROOT / n.decode()).is_file())


def report(carries: dict[str, list[Path]]) -> bool:
    repo = repository_bytes()
    print(f"repository (tracked + untracked, not ignored): {repo / 2**20:.1f} MiB")
    fits = True
    for command, paths in carries.items():
        extra = sum(size_of(p) for p in paths if p.exists())
        total = repo + extra
        fits &= total <= LIMIT
        print(f"{command}: carry {', '.join(str(p.relative_to(ROOT)) for p in paths)} = {extra / 2**20:.1f} MiB; "
              f"with the repository {total / 2**20:.1f} of 64 MiB {'(fits)' if total <= LIMIT else '(TOO LARGE)'}")
    return fits


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--size", type=int, default=176, help="stored side in px (training crops are taken from it)")
    parser.add_argument("--quality", type=int, default=70, help="WebP quality")
    parser.add_argument("--val", action="store_true", help="pack the val split too (it does not fit by default)")
    parser.add_argument("--limit", type=int, default=0, help="an evenly spaced subset of N images per split (tests)")
    parser.add_argument("--out", default=str(DATA))
    parser.add_argument("--report-only", action="store_true", help="only print what would travel")
    args = parser.parse_args()
    out = Path(args.out)
    shared = Path(args.shared)
    nette = shared / "imagenette-224"
    if not args.report_only:
        if not (nette / "train").is_dir():
            print(f"{nette / 'train'} is missing; pass --shared FOLDER holding imagenette-224/", file=sys.stderr)
            return 2
        counts = {s: sum(1 for f in (nette / s).rglob("*") if f.is_file()) for s in ("train", "val")
                  if (nette / s).is_dir()}
        for split in ["train"] + (["val"] if args.val else []):
            info = pack_folder(nette / split, out / "imagenette" / f"{split}.npz", args.size, args.quality,
                               limit=args.limit, extra_info={"val_images": counts.get("val", 0)})
            print(f"packed {info['images']} images of {nette / split} at {args.size} px, WebP q{args.quality}: "
                  f"{size_of(out / 'imagenette' / f'{split}.npz') / 2**20:.1f} MiB")
        samples = out / "imagenet-samples"
        samples.mkdir(parents=True, exist_ok=True)
        for name in SAMPLE_PHOTOS:
            if (shared / "imagenet-samples" / name).is_file():
                shutil.copyfile(shared / "imagenet-samples" / name, samples / name)
        print(f"copied {len(list(samples.iterdir()))} sample photos to {samples} ({size_of(samples) / 2**20:.1f} MiB)")
    fits = report({"bench/gpu/run.sh": [WHEELS / "app", WHEELS / "core", out / "imagenet-samples"],
                   "bench/gpu/train.sh": [WHEELS / "core", out / "imagenette" / "train.npz"]})
    return 0 if fits else 1


if __name__ == "__main__":
    sys.exit(main())
