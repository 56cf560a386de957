"""Keeping the message catalogues in step with the code (developers' tool, used by the tests).

    python -m attnviz.i18n.catalogues update     # add new messages to every .po, mark gone ones obsolete
    python -m attnviz.i18n.catalogues check      # list untranslated messages and placeholder mismatches
    python -m attnviz.i18n.catalogues merge F.json ...   # fill translations from {msgid: {"zh": .., "ja": ..}}

Messages are what ``_()``, ``N_()`` and ``ngettext()`` wrap in ``attnviz/`` and ``app.py``.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po, write_po

from .. import __version__
from . import DOMAIN, LOCALE_DIR, LOCALES, catalogue_path

ROOT = Path(__file__).resolve().parents[2]  # attnviz/i18n/catalogues.py -> the checkout
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
#: {name} / {name:.2f} (Python), %{y:.3f} (plotly hover templates), $...$ is left to the reader.
PLACEHOLDER = re.compile(r"%\{[^}]*\}|\{[A-Za-z_][A-Za-z0-9_]*(?:[!:][^{}]*)?\}")


def source_messages() -> Catalog:
    """Every message the code marks, with where it is used."""
    catalog = Catalog(domain=DOMAIN, project="attnviz", charset="utf-8")
    found = [(f"attnviz/{name}", lineno, message, comments, context)
             for name, lineno, message, comments, context in (entry[:5] for entry in extract_from_dir(
                 ROOT / "attnviz", method_map=[("**.py", "python")], keywords=KEYWORDS))]
    found += [("app.py", lineno, message, comments, context)
              for lineno, message, comments, context in extract_from_file("python", ROOT / "app.py", KEYWORDS)]
    for path, lineno, message, comments, context in found:
        catalog.add(message, None, [(path, lineno)], auto_comments=comments, context=context,
                    flags=("python-brace-format",) if PLACEHOLDER.search(message if isinstance(message, str)
                                                                          else message[0]) else ())
    return catalog


def read_catalog(locale: str) -> Catalog:
    path = catalogue_path(locale)
    if not path.exists():
        return Catalog(locale=locale, domain=DOMAIN, project="attnviz", charset="utf-8")
    with open(path, "rb") as f:
        return read_po(f, locale=locale, domain=DOMAIN)


def write_catalog(locale: str, catalog: Catalog) -> None:
    # The header is reviewed, not a template's placeholder (a fuzzy header would be left out of
    # the compiled catalogue, and with it the language's plural rule).
    catalog.fuzzy = False
    catalog.header_comment = (f"# {catalog.locale.english_name} translations of attnviz's texts.\n"
                              "# Copyright (C) 2026 the attnviz authors; MIT license, as attnviz.\n#")
    catalog.project, catalog.version = "attnviz", __version__
    catalog.copyright_holder = "the attnviz authors"
    catalog.msgid_bugs_address = "https://github.com/attnviz/attnviz/issues"
    catalog.last_translator = catalog.language_team = "attnviz translators"
    path = catalogue_path(locale)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        write_po(f, catalog, width=100, omit_header=False, sort_output=False, ignore_obsolete=True,
                 include_previous=False)


def update() -> None:
    template = source_messages()
    for locale in LOCALES.values():
        catalog = read_catalog(locale)
        catalog.update(template, no_fuzzy_matching=True)
        write_catalog(locale, catalog)


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def problems(locale: str) -> list[str]:
    """Untranslated, fuzzy or placeholder-mismatched messages of one catalogue, and messages the
    code uses that the catalogue lacks."""
    catalog = read_catalog(locale)
    out = []
    for message in source_messages():
        if not message.id:
            continue
        entry = catalog.get(message.id, message.context)
        ids = _forms(message.id)
        if entry is None:
            out.append(f"{locale}: missing {ids[0]!r}")
            continue
        strings = _forms(entry.string)
        if entry.fuzzy or not all(strings):
            out.append(f"{locale}: untranslated {ids[0]!r}")
            continue
        for text in strings:
            if placeholders(text) != placeholders(ids[-1]) and placeholders(text) != placeholders(ids[0]):
                out.append(f"{locale}: placeholders of {ids[0]!r}: {placeholders(ids[0])} != {placeholders(text)}")
    return out


def _forms(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """A catalogue message's id or string as its forms: one, or the singular then the plurals
    (babel keeps a plural message's as a tuple); no string is one empty form."""
    if value is None or isinstance(value, str):
        return (value or "",)
    return tuple(value)


def merge(files: list[Path]) -> int:
    """Fill translations from JSON files {msgid (singular for plurals): {code: text}}."""
    given: dict[str, dict[str, str]] = {}
    for file in files:
        given.update(json.loads(Path(file).read_text(encoding="utf-8")))
    filled = 0
    for code, locale in LOCALES.items():
        catalog = read_catalog(locale)
        for message in catalog:
            key = _forms(message.id)[0] if message.id else None
            text = given.get(key, {}).get(code) if key else None
            if not text:
                continue
            message.string = text if isinstance(message.id, str) else (text,) * catalog.num_plurals
            message.flags.discard("fuzzy")
            filled += 1
        write_catalog(locale, catalog)
    return filled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m attnviz.i18n.catalogues", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["update", "check", "merge"])
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args(argv)
    if args.command == "update":
        update()
        print(f"{len(source_messages())} messages; catalogues updated in {LOCALE_DIR}")
        return 0
    if args.command == "merge":
        update()
        print(f"{merge(args.files)} translations filled")
        return 0
    found = [p for locale in LOCALES.values() for p in problems(locale)]
    print("\n".join(found) or "every message is translated")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
