"""`attnviz report`."""
from __future__ import annotations

import argparse
import sys

from ..runtime import atomic
from ..errors import AttnvizError
from ..i18n import LANGUAGES
from .common import load_model_arg, add_model_args


def add_parser(sub: argparse._SubParsersAction) -> None:
    """`attnviz report`."""
    p = sub.add_parser("report", help="one offline HTML file with the images, top-5 and every chart (needs the app extra)")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    add_model_args(p)
    p.add_argument("--out", required=True, help="the HTML file to write")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--amp", default="off", choices=["off", "bf16", "fp16"], help="autocast on CUDA")
    p.add_argument("--random-weights", action="store_true", help="random weights (offline testing)")
    p.add_argument("--lang", choices=sorted(LANGUAGES), default=None,
                   help="the report's language: en, zh (简体中文) or ja (日本語); default ATTNVIZ_LANG, else en")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        from ..views.report import explore_report
    except ImportError as exc:
        raise AttnvizError(f"`attnviz report` draws plotly charts, which need the app extra "
                           f"(pip install 'attnviz[app]'): {exc}") from None
    from pathlib import Path

    from ..runtime.devices import configure_cpu_threads
    from ..images.loading import load_images
    from ..analysis.inference import analyse_images

    configure_cpu_threads()
    loaded = load_model_arg(args, args.device)
    items = load_images((Path(p).name, p) for p in args.images)
    good = [i for i in items if i.ok]
    for item in items:
        if not item.ok:
            print(f"attnviz: {item.error}", file=sys.stderr)
    if not good:
        raise AttnvizError("no image could be read; no report was written")
    analyses = analyse_images(loaded, [i.require_image() for i in good], [i.name for i in good])
    from ..i18n import language

    with language(args.lang):  # the report's texts; this command's own messages stay English
        page = explore_report(loaded, [(i.name, i.require_image(), a, None)
                                       for i, a in zip(good, analyses, strict=True)])
    atomic.write_text(args.out, page)
    print(f"wrote {args.out} ({len(page.encode()) / 1e6:.1f} MB): {len(good)} image(s), model {loaded.name}")
    return 1 if len(good) < len(items) else 0
