"""`attnviz fetch-imagenette`."""
from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """`attnviz fetch-imagenette`."""
    p = sub.add_parser(
        "fetch-imagenette", help="download Imagenette (torchvision) and make it the app's sample folder and data root",
        description="Download Imagenette through torchvision's datasets.Imagenette (skipped when ROOT already "
                    "holds it), copy one val photo per class into ROOT/attnviz-samples and write "
                    "ROOT/attnviz.env with ATTNVIZ_SAMPLES and ATTNVIZ_DATA_ROOT, the settings that make "
                    "them the app's sample folder and data root. Needs an internet connection unless ROOT "
                    "holds the archive or its unpacked folder.")
    p.add_argument("--root", default="~/attnviz-data", help="folder to download into (default: ~/attnviz-data)")
    p.add_argument("--size", default="160px", choices=["160px", "320px", "full"],
                   help="torchvision's image size (default: 160px, the smallest download)")
    p.add_argument("--no-download", action="store_true", help="use the copy in ROOT only; never download")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..training.imagenette import fetch_imagenette, report

    print(report(fetch_imagenette(args.root, args.size, download=not args.no_download)))
    return 0
