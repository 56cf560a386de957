"""The long decoder fuzz run: mutated files of every format Pillow writes, fed to the decoder.

    python bench/fuzz_decode.py --cases 20000 --seed 1 [--out found/]

Cases come from hypothesis (tests/mutations.py over tests/hostile.seed_files, the strategies of
tests/images/test_decode_fuzz.py), run with a seed so a run can be repeated. Each case goes through
``attnviz.images.decode_cost.estimate``, ``attnviz.images.loading.load_image`` and ``decode_views``; a finding is
any exception other than the file's ``ImageLoadError``, or a case that takes more than
``--slow`` seconds. Prints the cases tried, the outcomes and each finding (its exception, seed
file and size); ``--out`` keeps the files found, for tests/escapes/.
"""
from __future__ import annotations

import argparse
import collections
import signal
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402

from attnviz.errors import ImageLoadError  # noqa: E402
from attnviz.images.decode_cost import estimate  # noqa: E402
from attnviz.images.loading import decode_views, load_image  # noqa: E402
from hostile import seed_files  # noqa: E402
from mutations import mutated  # noqa: E402


class Slow(Exception):
    pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--slow", type=int, default=5, help="seconds after which a case is a finding")
    parser.add_argument("--out", type=Path, help="folder for the files found")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    seeds = seed_files()
    outcomes: collections.Counter = collections.Counter()
    findings: dict[tuple[str, str], tuple[str, bytes]] = {}

    def alarm(*_):
        raise Slow

    signal.signal(signal.SIGALRM, alarm)
    started = time.perf_counter()

    @seed(args.seed)
    @settings(max_examples=args.cases, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(mutated(seeds))
    def case(case):
        name, data = case
        signal.alarm(args.slow)
        try:
            estimate(data)
            for run in (lambda: load_image(data, name), lambda: decode_views(data, name)):
                try:
                    run()
                    outcomes["decoded"] += 1
                except ImageLoadError:
                    outcomes["refused"] += 1
        except Slow:
            findings.setdefault(("slow", f"over {args.slow} s"), (name, data))
        except Exception as exc:  # noqa: BLE001 - an escape is what this run looks for
            findings.setdefault((type(exc).__name__, str(exc)[:80]), (name, data))
        finally:
            signal.alarm(0)
        outcomes["cases"] += 1

    case()
    elapsed = time.perf_counter() - started
    print(f"cases tried: {outcomes['cases']} in {elapsed:.0f} s (hypothesis seed {args.seed}); "
          f"decoder calls: {outcomes['decoded']} decoded, {outcomes['refused']} refused by name")
    print(f"findings: {len(findings)}")
    for i, ((kind, message), (name, data)) in enumerate(sorted(findings.items())):
        print(f"  {kind}: {message} (seed {name}, {len(data)} bytes)")
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / f"{i:02d}_{kind}_{name}").write_bytes(data)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
