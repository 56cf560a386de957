"""The kinds' semantics (attnviz.gates) and their words (attnviz.views.kinds) stay apart."""
from __future__ import annotations

import subprocess
import sys

import pytest


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(m for m in sys.modules if m.startswith('attnviz')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_the_gates_package_imports_without_i18n():
    loaded = _loaded_after("import attnviz.gates, attnviz.gates.pattern")
    assert "attnviz.gates.se" in loaded and "attnviz.gates.pattern" in loaded   # the check saw the import
    assert "attnviz.i18n" not in loaded and "attnviz.errors" not in loaded
    assert not any(m.startswith("attnviz.views") for m in loaded)


def test_the_views_of_the_kinds_import_i18n():
    assert "attnviz.i18n" in _loaded_after("import attnviz.views.kinds")


def test_every_registered_kind_has_its_own_view():
    from attnviz.gates import kinds
    from attnviz.views.kinds import KindView, view_of

    for kind in kinds():
        view = view_of(kind)
        assert type(view) is not KindView and view.kind is kind, kind
        assert view.title and view.learn_text, kind


def test_a_kind_without_a_view_gets_the_generic_one():
    from attnviz.gates import AttentionKind
    from attnviz.views.kinds import KindView, view_of

    class Plugin(AttentionKind):
        name, title, prefix, paper = "plugin-test", "Plug-in gate", "PLUG", "nobody"

    view = view_of(Plugin())
    assert type(view) is KindView and view.heading() == "Plug-in gate"
    assert view.path_names(2) == ["split 1", "split 2"] and view.value_label(2) == "split 2 weight"


@pytest.mark.parametrize("module", ["attnviz.gates.base", "attnviz.gates.kind", "attnviz.gates.registry"])
def test_the_core_modules_do_not_import_each_other_in_a_circle(module):
    # base imports neither kind nor registry; kind imports base only; registry imports base only
    import ast
    import importlib

    source = importlib.import_module(module).__file__
    with open(source, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 1}
    allowed = {"attnviz.gates.base": set(), "attnviz.gates.kind": {"base"}, "attnviz.gates.registry": {"base"}}
    assert imported <= allowed[module], imported


# ---------------------------------------------------------------- a guard: pages ask the kinds

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2] / "attnviz"
#: Page, view and figure modules (and the analyses they call) that must not name a kernel size nor
#: branch on a kind's flag or path count: those are the kinds' (attnviz/gates/, attnviz/views/kinds/).
GUARDED = ("app", "views", "figures", "analysis/scale.py", "analysis/walkthrough.py", "analysis/model_comparison.py",
           "analysis/attribution.py", "live", "profiles/builder", "cli")
FORBIDDEN = __import__("re").compile(r"paths >=|paths ==|paths > 1|paths < 2|\[\"paths\"\] (>=|==)|channel_gate|"
                                     r"kernel_selection|split_attention\b|3×3|5×5")
#: What a reader is shown (a translated string, a command's help) must not name SK's units or kernels
#: either; comments and docstrings may use SK as their example.
FORBIDDEN_SHOWN = __import__("re").compile(r"\b[35]x[35]\b|\bSK units?\b")


def shown_strings(source: str):
    """(line, text) of every string a reader is shown: the literal argument of _() or N_(), and a
    keyword help= (argparse)."""
    import ast

    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        shown = [a for a in node.args if isinstance(node.func, ast.Name) and node.func.id in ("_", "N_")]
        shown += [k.value for k in node.keywords if k.arg == "help"]
        for value in shown:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                yield value.lineno, value.value


def _guarded_lines():
    for entry in GUARDED:
        path = ROOT / entry
        assert path.exists(), f"the guard names {entry}, which is not in attnviz/"
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*.py") if "kinds" not in p.parts)
        for file in files:
            for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
                if FORBIDDEN.search(line):
                    yield file.relative_to(ROOT).as_posix(), number, line.strip()
            for number, text in shown_strings(file.read_text(encoding="utf-8")):
                if FORBIDDEN_SHOWN.search(text):
                    yield file.relative_to(ROOT).as_posix(), number, text


def test_no_page_view_or_figure_names_a_kernel_size_or_tests_a_kind_flag():
    found = list(_guarded_lines())
    assert found == [], "ask the kind (attnviz/gates) or its view (attnviz/views/kinds) instead:\n" + "\n".join(
        f"{f}:{n}: {line}" for f, n, line in found)


def test_the_guard_sees_what_it_forbids():
    # the pattern catches each forbidden form (so the guard above can fail)
    for text in ('if g.paths >= 2:', 'gate.kind.channel_gate', 'a (3×3)', 'if g["paths"] >= 2', 'kind.split_attention',
                 'if g["paths"] == 1:'):
        assert FORBIDDEN.search(text), text
    source = 'x = _("b against a "\n      "per SK unit")\np.add_argument("--path", help="1 = b (5x5)")\ny = N_("a")  # SK unit'
    assert [(n, bool(FORBIDDEN_SHOWN.search(t))) for n, t in shown_strings(source)] == [(1, True), (3, True), (4, False)]
    assert not FORBIDDEN.search("if gate.compares_paths and gate.kind.draws(SELECTION):")
