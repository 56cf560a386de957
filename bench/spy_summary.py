"""Where the server's time went, from py-spy's collapsed stacks (bench/classroom.py --py-spy PATH).

    python bench/spy_summary.py PATH [--top 40] [--match attnviz/]

Prints each function's share of the samples: *self* (at the top of the stack) and *total*
(anywhere on it, counted once a stack), the functions matching ``--match`` first.
"""
from __future__ import annotations

import argparse
import re
from collections import Counter


def frames(stack: str) -> list[str]:
    """'func (file:line)' entries, outermost first, line numbers dropped (one entry per function)."""
    return [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--match", default="", help="only functions whose entry contains this text")
    args = parser.parse_args()
    own, anywhere, total = Counter(), Counter(), 0
    with open(args.path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        entries = frames(stack)
        own[entries[-1]] += n
        for entry in set(entries):
            anywhere[entry] += n
    print(f"{total} samples")
    print("total%  self%  function")
    for entry, n in anywhere.most_common():
        if args.match in entry and args.top > 0:
            print(f"{100 * n / total:6.1f} {100 * own[entry] / total:6.1f}  {entry}")
            args.top -= 1


if __name__ == "__main__":
    main()
