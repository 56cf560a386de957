"""`attnviz channel`."""
from __future__ import annotations

import argparse
import json
from .common import print_table


def add_parser(sub: argparse._SubParsersAction) -> None:
    """`attnviz channel`."""
    p = sub.add_parser("channel", help="the images that excite one channel most and least (from a profile)",
                       description="List the images a profile made with --top-images kept for one gate and "
                                   "channel: the highest values first, then the lowest. Exit code 2 when "
                                   "the profile keeps no top images or the gate or channel does not exist.")
    p.add_argument("profile", help="a profile made with `attnviz profile ... --top-images K`")
    p.add_argument("--gate", required=True, help="gate name, e.g. SE_4_2")
    p.add_argument("--channel", required=True, type=int)
    p.add_argument("--path", type=int, default=None,
                   help="for a gate with two or more paths (SK, split attention): the path, 0 = a, 1 = b, ... "
                        "(default: the path the gate's kind compares, b for SK)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..profiles.profile import load_profile

    profile = load_profile(args.profile)
    listed = profile.channel_images(args.gate, args.channel, args.path)
    if args.json:
        print(json.dumps({"profile": profile.model, "data": profile.data, "gate": args.gate,
                          "channel": args.channel, **listed}, indent=1))
        return 0
    print(f"{args.gate} channel {args.channel} of {profile.model} over {profile.data}")
    for kind, title in (("top", "highest"), ("bottom", "lowest")):
        print(f"\n{title} values:")
        print_table([{"value": f"{r['value']:.4f}", "class": r["class"], "image": r["image"]} for r in listed[kind]],
                     ["value", "class", "image"])
    return 0
