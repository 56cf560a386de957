"""The ``attnviz`` command line: one module per command (its ``add_parser`` and ``run``), in the
order ``attnviz --help`` lists them; ``common`` holds what several share."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..errors import AttnvizError
from . import train, models, inspect, channel, class_stats, report, compare_models, evaluate, bundle, profile, fetch_imagenette

_COMMANDS = (train, models, inspect, channel, class_stats, report, compare_models, evaluate, bundle, profile, fetch_imagenette)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="attnviz", description="See channel attention (SE, SK, split attention) in CNNs.")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in _COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # usage errors exit 2 with argparse's one-line message
    try:
        return args.func(args)
    except AttnvizError as exc:
        print(f"attnviz: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("attnviz: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `attnviz channel ... | head`: the reader left, nothing is wrong
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0


if __name__ == "__main__":
    sys.exit(main())
