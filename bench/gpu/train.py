"""Train the stronger bundled models on one GPU in one command (bench/gpu/train.sh runs this).

    python bench/gpu/train.py --data bench/gpu/data/imagenette/train.npz --out OUT --seconds 360
    python bench/gpu/train.py --cards OUT      # back here: OUT/cards.json -> OUT/<name>.json

The packed train split (bench/gpu/prepare_data.py) is decoded once onto the device, then each
architecture trains for its share of ``--seconds`` (attnviz.training.train_gpu.train_budgeted: augmentation
on the device, bf16 autocast, channels_last, lr schedule over the budget). Written to OUT: one fp16
``<name>.safetensors`` per model (each <= 16 MiB, checked) and ``cards.json`` holding every
model's metadata. ``--cards`` splits cards.json into the ``<name>.json`` files that ``attnviz bundle``
reads beside each weights file (evaluation, profiles and the model card are made there, on CPU).
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from attnviz.training.train_gpu import BudgetConfig, BudgetPlan, read_packed, train_budgeted  # noqa: E402

ARCHS = ["se_resnet18_5of8", "sk_resnet18_5of8", "se_resnet26_5of8", "sk_resnet26_5of8"]
MAX_FILE = 16 * 2**20  # what one file may take back from the GPU machine


def write_cards(out: Path) -> list[Path]:
    cards = json.loads((out / "cards.json").read_text())
    written = []
    for name, meta in cards.items():
        if not (out / f"{name}.safetensors").is_file():
            raise SystemExit(f"{out / 'cards.json'} names {name}, but {out / f'{name}.safetensors'} is missing")
        path = out / f"{name}.json"
        path.write_text(json.dumps(meta, indent=1))
        written.append(path)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(ROOT / "bench" / "gpu" / "data" / "imagenette" / "train.npz"))
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "gpu-train"))
    parser.add_argument("--archs", default=",".join(ARCHS), help="comma-separated attnviz.models.architectures names")
    parser.add_argument("--shares", default="", help="comma-separated shares of the time (default: equal)")
    parser.add_argument("--seconds", type=float, default=360.0, help="training time of all models together")
    parser.add_argument("--suffix", default="_imagenette", help="model name = arch + suffix")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=0.4)
    parser.add_argument("--train-size", type=int, default=160)
    parser.add_argument("--eval-size", type=int, default=192)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--amp", default="bf16", choices=["bf16", "fp16", "off"])
    parser.add_argument("--max-steps", type=int, default=0, help="stop each model after N steps (tests)")
    parser.add_argument("--cards", metavar="OUT", help="only split OUT/cards.json into OUT/<name>.json")
    args = parser.parse_args()
    if args.cards:
        for path in write_cards(Path(args.cards)):
            print(f"wrote {path}")
        return 0

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    command = "python bench/gpu/train.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    start = time.perf_counter()
    data = read_packed(args.data, device=args.device)
    print(f"decoded {len(data)} images {tuple(data.images.shape[1:])} onto {data.images.device} "
          f"in {time.perf_counter() - start:.1f} s", flush=True)
    archs = [a for a in args.archs.split(",") if a]
    plan = BudgetPlan(archs, args.seconds, [float(s) for s in args.shares.split(",") if s])
    cards, too_large = {}, []
    for arch, seconds in zip(archs, plan.budgets(), strict=True):
        name = arch + args.suffix
        cfg = BudgetConfig(data=args.data, arch=arch, out=str(out / f"{name}.safetensors"), seconds=seconds,
                           batch_size=args.batch_size, lr=args.lr, train_size=args.train_size,
                           eval_size=args.eval_size, device=str(data.images.device), amp=args.amp,
                           max_steps=args.max_steps, command=command)
        print(f"== {name}: {seconds:.0f} s", flush=True)
        cards[name] = train_budgeted(cfg, data, log=lambda line: print(line, flush=True))
        size = Path(cfg.out).stat().st_size
        if size > MAX_FILE:
            too_large.append(f"{cfg.out} ({size / 2**20:.1f} MiB)")
        (out / "cards.json").write_text(json.dumps(cards, indent=1))  # after each model: a timeout keeps the rest
    print(f"all done in {time.perf_counter() - start:.0f} s", flush=True)
    if too_large:
        print(f"over the 16 MiB a file may take back: {', '.join(too_large)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
