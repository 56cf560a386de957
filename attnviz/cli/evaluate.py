"""`attnviz evaluate`."""
from __future__ import annotations

import argparse
import json
from .common import print_table


def add_parser(sub: argparse._SubParsersAction) -> None:
    """`attnviz evaluate`."""
    p = sub.add_parser("evaluate", help="top-1/top-5 and per-class accuracy on an ImageFolder split")
    p.add_argument("data", help="ImageFolder root (with val/) or a split folder of class subfolders")
    p.add_argument("--model", required=True)
    p.add_argument("--weights")
    p.add_argument("--split", default="val", help="subfolder to use when DATA has one (default val)")
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--limit", type=int, default=0, help="evaluate a fixed, evenly spaced subset of N images")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..training.evaluate import evaluate_folder

    result = evaluate_folder(args.data, args.model, weights=args.weights, device=args.device,
                             batch_size=args.batch_size, workers=args.workers, limit=args.limit,
                             split=args.split)
    if args.json:
        print(json.dumps(result.to_dict(), indent=1))
        return 0
    print(f"{result.model} on {result.data} ({result.images} images): "
          f"top-1 {result.top1:.2%}  top-5 {result.top5:.2%}")
    print_table([{"class": c.class_name, "images": c.images, "top-1": f"{c.top1:.2%}"}
                  for c in result.per_class], ["class", "images", "top-1"])
    return 0
