"""What several commands share: the model arguments and loading them, and plain-text tables."""
from __future__ import annotations

import argparse

from ..errors import AttnvizError


def print_table(rows: list[dict], columns: list[str]) -> None:
    widths = {c: max([len(c), *(len(str(r.get(c, ""))) for r in rows)]) for c in columns}  # rows may be []
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns))


def load_model_arg(args: argparse.Namespace, device):
    """The model of --model (default: the bundled one) or --model-file FILE.py:FUNCTION."""
    from ..models.zoo import default_model_name, load_model, load_model_file

    if getattr(args, "model_file", None):
        return load_model_file(args.model_file, weights=args.weights, device=device, amp=args.amp)
    name = args.model or default_model_name()
    if name is None:
        raise AttnvizError("no --model given and no bundled model is installed; pass --model NAME "
                           "(see `attnviz models`) or --model-file FILE.py:FUNCTION")
    return load_model(name, weights=args.weights, device=device, amp=args.amp, pretrained=not args.random_weights)


def add_model_args(p: argparse.ArgumentParser) -> None:
    which = p.add_mutually_exclusive_group()
    which.add_argument("--model", help="model name (default: the bundled SE model)")
    which.add_argument("--model-file", metavar="FILE.py:FUNCTION",
                       help="your own network: imports FILE.py (runs its code) and calls FUNCTION(), "
                            "which returns an nn.Module; gates are found by what they compute")
    p.add_argument("--weights", help="local weights file (state dict) for a timm architecture or --model-file")
