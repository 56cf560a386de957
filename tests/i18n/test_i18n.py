"""The message catalogues and the choice of language (attnviz/i18n/__init__.py, attnviz/i18n/catalogues.py)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from attnviz.i18n import catalogues
from attnviz import i18n
from attnviz.i18n import LOCALES, _, language, negotiate, ngettext, normalise

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("locale", sorted(LOCALES.values()))
def test_every_message_of_the_code_is_translated_with_the_same_placeholders(locale):
    """A message the code marks but the catalogue lacks, leaves empty or marks fuzzy fails here
    (remedy: python -m attnviz.i18n.catalogues update, then translate the new entries)."""
    assert catalogues.problems(locale) == []


def test_the_code_marks_hundreds_of_messages_and_only_literals():
    messages = [m for m in catalogues.source_messages() if m.id]
    assert len(messages) > 300
    # Babel can extract only literals: _(f"...") or _(name) would never reach a catalogue.
    offenders = []
    for path in [ROOT / "app.py", *sorted((ROOT / "attnviz").rglob("*.py"))]:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"(?<![\w.])(_|ngettext)\(\s*f['\"]", line):
                offenders.append(f"{path.relative_to(ROOT)}:{lineno}")
    assert offenders == []


@pytest.mark.parametrize("code,word", [("zh", "激励"), ("ja", "励起")])
def test_excitation_is_written_as_courses_write_it(code, word):
    with language(code):
        text = _("Excitation per block, over its channels")
    assert word in text


def test_each_language_reads_its_own_catalogue_and_english_is_the_code():
    message = "Start here"
    with language("en"):
        assert _(message) == message
    with language("zh"):
        zh = _(message)
    with language("ja"):
        ja = _(message)
    assert len({message, zh, ja}) == 3
    assert re.search(r"[\u4e00-\u9fff]", zh) and re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", ja)


def test_plural_forms_follow_the_count_in_english_and_exist_in_every_catalogue():
    for locale in LOCALES.values():
        assert catalogues.read_catalog(locale).num_plurals == 1  # Chinese and Japanese: one form
    plural = next((m for m in catalogues.source_messages() if isinstance(m.id, tuple)), None)
    assert plural is not None, "the code uses ngettext somewhere"
    singular, many = plural.id
    assert ngettext(singular, many, 1) == singular and ngettext(singular, many, 2) == many
    with language("ja"):
        assert ngettext(singular, many, 1) == ngettext(singular, many, 2) != many


def test_the_language_is_a_context_that_ends_with_its_block(monkeypatch):
    monkeypatch.delenv("ATTNVIZ_LANG", raising=False)
    assert i18n.current_language() == "en"
    with language("ja") as code:
        assert code == "ja" and i18n.current_language() == "ja"
        with language("zh-CN"):
            assert i18n.current_language() == "zh"
        assert i18n.current_language() == "ja"
    assert i18n.current_language() == "en"


def test_attnviz_lang_is_the_default_and_unknown_codes_fall_back_to_it(monkeypatch):
    monkeypatch.setenv("ATTNVIZ_LANG", "ja_JP.UTF-8")
    assert i18n.default_language() == "ja"
    with language("fr"):
        assert i18n.current_language() == "ja"
    monkeypatch.setenv("ATTNVIZ_LANG", "klingon")
    assert i18n.default_language() == "en"


@pytest.mark.parametrize("header,expected", [
    ("ja,en-US;q=0.9,en;q=0.8", "ja"),
    ("fr-FR,zh-CN;q=0.8,en;q=0.5", "zh"),
    ("en-GB,en;q=0.9,ja;q=0.8", "en"),
    ("zh-Hans-CN", "zh"),
    ("de;q=1.0, ja;q=0", None),         # q=0: not acceptable
    ("en;q=0.2, zh-TW;q=0.7", "zh"),
    ("", None), (None, None), ("fr", None), ("ja;q=abc", None),
])
def test_accept_language_picks_the_best_of_the_apps_languages(header, expected):
    assert negotiate(header) == expected


def test_codes_are_normalised():
    assert [normalise(c) for c in ("zh_Hans", "ZH", "ja-JP", "en-GB", "", None, "pt")] == \
        ["zh", "zh", "ja", "en", None, None, None]


def test_the_font_stack_names_cjk_fonts_first_for_the_language():
    ja = i18n.font_family("ja")
    assert ja.index("Noto Sans CJK JP") < ja.index("Noto Sans CJK SC")
    zh = i18n.font_family("zh")
    assert zh.index("Noto Sans CJK SC") < zh.index("Noto Sans CJK JP")
    assert zh.endswith("sans-serif")


def test_placeholders_are_compared_by_name_and_format():
    assert catalogues.placeholders("{n} of {total:.0%} %{y:.3f}") == ["%{y:.3f}", "{n}", "{total:.0%}"]
    assert catalogues.placeholders("{share:.0%}") != catalogues.placeholders("{share}")
