"""`attnviz models`."""
from __future__ import annotations

import argparse
import json
from .common import print_table


def add_parser(sub: argparse._SubParsersAction) -> None:
    """`attnviz models`."""
    p = sub.add_parser("models", help="list the zoo and whether each model's weights are available offline")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--no-probe", action="store_true",
                   help="skip building each architecture to count its gates and parameters")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..models.zoo import describe_zoo

    rows = describe_zoo(probe=not args.no_probe)
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    table = []
    for r in rows:
        table.append({"name": r["name"], "attention": ",".join(r.get("kinds", [])) or "?",
                      "gates": r.get("gates", "?"),
                      "params": f"{r['params'] / 1e6:.1f}M" if r.get("params") else "?",
                      "weights": {"download": "needs download"}.get(r["weights"], r["weights"]),
                      "description": r["description"]})
    print_table(table, ["name", "attention", "gates", "params", "weights", "description"])
    return 0
