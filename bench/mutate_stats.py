"""Hand-made mutation testing of the statistics: does the suite turn red when the science is wrong?

    python bench/mutate_stats.py [--limit N] [--seconds S]

Copies the package and the statistics tests to a temporary folder (never touching the working
tree), then for every mutant - the named ones the issues ask about (class specificity halved, the
class-count weighting dropped from ``Profile.overall_mean`` and the mean attention difference),
and every arithmetic operator swapped (+ -, * /), comparison flipped (< <=, > >=) and numeric
constant changed inside ``attnviz/analysis/statistics.py`` and ``attnviz/profiles/class_stats.py`` - writes the mutated
file and runs ``tests/profiles/test_class_stats.py`` in one warm interpreter (``pytest.main`` with the
mutated modules re-imported), stopping at the first failure. A mutant is *killed* when a test
fails. Prints each survivor and the score; mutmut does the same with more operators but needs a
clean checkout of its own and minutes per mutant on this machine's two shared cores.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ["attnviz/analysis/statistics.py", "attnviz/profiles/class_stats.py"]
TESTS = ["tests/profiles/test_class_stats.py"]
SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
         ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}
#: The functions whose arithmetic the pages, the cards and the notebooks state.
FUNCTIONS = {"class_specificity", "eta_squared", "omega_squared", "f", "p", "null_eta_squared",
             "null_eta_squared_quantile", "anova_from_moments", "_channel_means_of_eta_omega",
             "_stacked_specificity", "class_draws", "spearman", "holm_adjust", "class_dependence",
             "specificity", "anova", "mean_attention_difference", "_interval", "class_means"}
NAMED = [
    ("class_specificity halved", "attnviz/analysis/statistics.py",
     "return float(between.sum() / total.sum()) if total.sum() > 0 else 0.0",
     "return float(0.5 * between.sum() / total.sum()) if total.sum() > 0 else 0.0"),
    ("overall_mean without class-count weighting", "attnviz/profiles/profile.py",
     "return (self.means[gate][scale_index][chosen] * n[:, None, None]).sum(axis=0) / max(n.sum(), 1)",
     "return self.means[gate][scale_index][chosen].mean(axis=0)"),
    ("mean_attention_difference without weighting", "attnviz/profiles/class_stats.py",
     "overall = profile.overall_mean(gate, scale_index, classes)                # (P, C)",
     "overall = profile.mean(gate, scale_index)[slice(None) if classes is None else list(classes)].mean(axis=0)"),
]


def _mutants(source: str):
    """(description, mutated source) for each operator, comparison and constant in FUNCTIONS."""
    tree = ast.parse(source)
    nodes = []
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.name in FUNCTIONS:
            for node in ast.walk(fn):
                if isinstance(node, ast.BinOp) and type(node.op) in SWAPS:
                    nodes.append((fn.name, node, "op"))
                elif isinstance(node, ast.Compare) and type(node.ops[0]) in SWAPS:
                    nodes.append((fn.name, node, "cmp"))
                elif isinstance(node, ast.Constant) and type(node.value) in (int, float) \
                        and not isinstance(node.value, bool):
                    nodes.append((fn.name, node, "const"))
    for name, node, what in nodes:
        if what == "op":
            old = node.op
            node.op = SWAPS[type(old)]()
            yield f"{name}: line {node.lineno} {type(old).__name__} -> {type(node.op).__name__}", ast.unparse(tree)
            node.op = old
        elif what == "cmp":
            old = node.ops[0]
            node.ops[0] = SWAPS[type(old)]()
            yield f"{name}: line {node.lineno} {type(old).__name__} -> {type(node.ops[0]).__name__}", ast.unparse(tree)
            node.ops[0] = old
        else:
            old = node.value
            node.value = old + 1 if isinstance(old, int) else old * 2 if old else 1.0
            yield f"{name}: line {node.lineno} constant {old!r} -> {node.value!r}", ast.unparse(tree)
            node.value = old


def _run(work: Path) -> bool:
    """True when the tests pass (the mutant survives)."""
    import pytest

    for name in [m for m in sys.modules if m == "attnviz" or m.startswith(("attnviz.", "test_class_stats"))]:
        del sys.modules[name]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = pytest.main([str(work / t) for t in TESTS] + ["-x", "-q", "-p", "no:cacheprovider",
                                                             "-p", "no:randomly", "--rootdir", str(work)])
    return code == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="at most N operator mutants (0 = all)")
    parser.add_argument("--seconds", type=float, default=0, help="stop starting mutants after S seconds")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ["ATTNVIZ_ASSETS"] = str(ROOT / "assets")   # the shipped profiles and cards, read only
    work = Path(tempfile.mkdtemp(prefix="attnviz-mutants-"))
    shutil.copytree(ROOT / "attnviz", work / "attnviz")
    (work / "tests").mkdir()
    for t in TESTS:
        (work / t).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / t, work / t)
    shutil.copy(ROOT / "pyproject.toml", work / "pyproject.toml")
    sys.path.insert(0, str(work))
    started = time.perf_counter()
    if not _run(work):
        print("the unmutated tests fail; fix them first")
        return 2
    killed, survived = 0, []
    plan = [(desc, path, None, (old, new)) for desc, path, old, new in NAMED]
    operators = [(desc, target, source, None) for target in TARGETS
                 for desc, source in _mutants((ROOT / target).read_text())]
    plan += operators[:args.limit] if args.limit else operators
    for desc, target, source, replacement in plan:
        if args.seconds and time.perf_counter() - started > args.seconds:
            break
        original = (ROOT / target).read_text()
        mutated = source if source is not None else original.replace(*replacement)
        assert mutated != original, desc
        (work / target).write_text(mutated)
        try:
            if _run(work):
                survived.append(f"{target}: {desc}")
            else:
                killed += 1
        finally:
            (work / target).write_text(original)
    total = killed + len(survived)
    for line in survived:
        print("SURVIVED", line)
    print(f"{killed} of {total} mutants killed ({100 * killed / max(total, 1):.0f} %), "
          f"{len(plan) - total} not run, {time.perf_counter() - started:.0f} s")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
