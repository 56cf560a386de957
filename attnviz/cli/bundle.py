"""`attnviz bundle`."""
from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    """`attnviz bundle`."""
    p = sub.add_parser("bundle", help="package a trained run as a bundled model: weights, card, class profile")
    p.add_argument("run", help="weights written by `attnviz train` (its .json must sit beside it)")
    p.add_argument("--name", required=True, help="name in the zoo, e.g. se_resnet18_imagenette")
    p.add_argument("--description", required=True)
    p.add_argument("--data", required=True, help="ImageFolder root with val/ (evaluation and profile)")
    p.add_argument("--default", action="store_true", help="make it the app's and CLI's default model")
    p.add_argument("--scales", default="1.0", help="zooms for the profile, e.g. 1.0,1.5,2.0")
    p.add_argument("--notes", default="", help="anything the card should say about the training run")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--device", default="auto")
    p.add_argument("--per-class-limit", type=int, default=0, help="smoke runs: first N val images per class")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import shlex

    from ..training.bundle import package

    scales = [float(s) for s in args.scales.split(",")]
    package(args.run, args.name, args.description, args.data, default=args.default, scales=scales,
            batch_size=args.batch_size, workers=args.workers, device=args.device, notes=args.notes,
            per_class_limit=args.per_class_limit,
            command="attnviz " + " ".join(shlex.quote(a) for a in sys.argv[1:]))
    return 0
