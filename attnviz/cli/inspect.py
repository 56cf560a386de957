"""`attnviz inspect`."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import Any
from .common import print_table, load_model_arg, add_model_args


def _inspect_row(loaded, analysis, values: bool = False) -> tuple[dict, list[dict[str, str]]]:
    """One good image's JSON row and its text-table rows (one per gate, cells chosen by the
    gate's kind through its summary)."""
    from ..analysis.statistics import gate_summary

    summaries = [gate_summary(g, analysis.values[g.name]) for g in loaded.gates]
    gates = [s.to_dict() for s in summaries]
    if values:  # every value, so anyone can check a listed one against a fresh forward pass
        for row, g in zip(gates, loaded.gates, strict=True):
            row["values"] = [[round(float(v), 7) for v in path] for path in analysis.values[g.name]]
    table = [{"gate": s.name, "kind": s.kind, "C": str(s.channels), **s.values.table_cells()} for s in summaries]
    return {"file": analysis.name, "ok": True, "top5": [asdict(t) for t in analysis.top(loaded.class_names, 5)],
            "gates": gates}, table


def _columns(table: list[dict[str, str]]) -> list[str]:
    """Every cell name of the table's rows, in the order they first appear."""
    return list(dict.fromkeys(name for row in table for name in row))


def add_parser(sub: argparse._SubParsersAction) -> None:
    """`attnviz inspect`."""
    p = sub.add_parser("inspect", help="top-5 classes and per-gate attention summaries for images")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    add_model_args(p)
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--amp", default="off", choices=["off", "bf16", "fp16"], help="autocast on CUDA")
    p.add_argument("--random-weights", action="store_true", help="random weights (offline testing)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--values", action="store_true",
                   help="with --json: every gate's full value vector per image (paths x channels)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..runtime.devices import configure_cpu_threads
    from ..images.loading import load_images
    from ..analysis.inference import analyse_images

    configure_cpu_threads()

    loaded = load_model_arg(args, args.device)
    items = load_images((p, p) for p in args.images)
    good = [i for i in items if i.ok]
    analyses = iter(analyse_images(loaded, [i.require_image() for i in good], [i.name for i in good]))
    report: list[dict[str, Any]] = []
    tables: list[list[dict[str, str]]] = []     # beside report: one text table per image (none if refused)
    for item in items:
        if not item.ok:
            report.append({"file": item.name, "ok": False, "error": item.error})
            tables.append([])
            continue
        row, table = _inspect_row(loaded, next(analyses), args.values)
        report.append({**row, **({"notes": list(item.notes)} if item.notes else {})})
        tables.append(table)
    if args.json:
        print(json.dumps({"model": loaded.name, "device": loaded.device_label, "images": report}, indent=1))
    else:
        print(f"model {loaded.name} ({loaded.source}) on {loaded.device_label}, {len(loaded.gates)} gates")
        for row, table in zip(report, tables, strict=True):
            print()
            if not row["ok"]:
                print(f"REFUSED {row['error']}")
                continue
            print(row["file"])
            for note in row.get("notes", ()):
                print(f"  note: {note}")
            for t in row["top5"]:
                print(f"  {t['prob']:7.2%}  {t['label']} ({t['index']})")
            print_table(table, _columns(table))
    bad = [r for r in report if not r["ok"]]
    for row in bad:
        if args.json:
            print(f"attnviz: {row['error']}", file=sys.stderr)
    return 1 if bad else 0
