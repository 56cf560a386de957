"""The reader's language: gettext message catalogues (Babel) for English, Chinese and Japanese.

Every string a person reads is written in English in the code and wrapped in ``_()`` (or
``ngettext()`` when it depends on a count); ``scripts/catalogues.py`` extracts them into
``attnviz/locale/<locale>/LC_MESSAGES/attnviz.po``, where the translations live. The ``.po`` files
are the only source: they are compiled in memory the first time a language is used, so no
generated ``.mo`` file can fall out of date.

The language is a context variable, set for one script run of the app (``language()``), for one
CLI command (``attnviz report --lang``), or by ``ATTNVIZ_LANG`` (the default for everything).
Placeholders are named (``{count}``), never positional, so that a translation may reorder them;
strings that must be translated later (module constants) are marked with ``N_()``.
"""
from __future__ import annotations

import gettext
import io
import os
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from collections.abc import Iterator

DOMAIN = "attnviz"
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"  # attnviz/locale
ENGLISH = "en"
#: The app's languages: code (as in ``?lang=``) -> the language's own name.
LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文", "ja": "日本語"}
#: Code -> the catalogue's Babel locale (Chinese: simplified script).
LOCALES: dict[str, str] = {"zh": "zh_Hans", "ja": "ja"}
#: CJK fonts by language, first choice first: installed with the OS (Noto/Source Han on Linux,
#: PingFang/Hiragino on macOS, Microsoft YaHei/Yu Gothic on Windows); nothing is downloaded.
CJK_FONTS: dict[str, tuple[str, ...]] = {
    "zh": ("Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei"),
    "ja": ("Noto Sans CJK JP", "Source Han Sans JP", "Hiragino Sans", "Yu Gothic", "Meiryo"),
}
BASE_FONTS = ("Open Sans", "Verdana", "Arial")

_current: ContextVar[str | None] = ContextVar("attnviz_language", default=None)


def normalise(code: str | None) -> str | None:
    """'zh-CN', 'zh_Hans', 'ZH' -> 'zh'; 'ja-JP' -> 'ja'; 'en-GB' -> 'en'; anything else -> None."""
    if not code:
        return None
    primary = code.strip().replace("_", "-").split("-")[0].lower()
    return primary if primary in LANGUAGES else None


def default_language() -> str:
    """The server's default: ``ATTNVIZ_LANG`` when it names a language of the app, else English."""
    return normalise(os.environ.get("ATTNVIZ_LANG")) or ENGLISH


def current_language() -> str:
    """The language of the current script run or command."""
    return _current.get() or default_language()


@contextmanager
def language(code: str | None) -> Iterator[str]:
    """Everything inside reads ``code`` (None or an unknown code: the default language)."""
    chosen = normalise(code) or default_language()
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def set_language(code: str | None) -> str:
    """Set the language for the rest of this context (one script run of the app)."""
    chosen = normalise(code) or default_language()
    _current.set(chosen)
    return chosen


def negotiate(accept_language: str | None) -> str | None:
    """The best of the app's languages for an HTTP ``Accept-Language`` header, or None.

    'ja,en-US;q=0.9' -> 'ja'; 'fr-FR,zh-CN;q=0.8,en;q=0.5' -> 'zh'; 'fr' -> None (no match: the
    caller falls back to the server's default).
    """
    if not accept_language:
        return None
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept_language.split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _eq, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        code = normalise(tag)
        if code is not None and quality > 0:
            ranked.append((-quality, i, code))
    return min(ranked)[2] if ranked else None


def catalogue_path(locale: str) -> Path:
    """The .po file of a Babel locale ('zh_Hans', 'ja')."""
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(code: str) -> gettext.NullTranslations:
    """The compiled catalogue of a language (English: the messages as written)."""
    locale = LOCALES.get(code)
    if locale is None:
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(catalogue_path(locale), "rb") as po:
        catalog = read_po(po, locale=locale, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def _(message: str) -> str:
    """``message`` in the current language."""
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a message for ``n`` (Chinese and Japanese have one form)."""
    return translations(current_language()).ngettext(singular, plural, n)


#: Languages whose sentences follow each other without a space (。 ends them).
UNSPACED = {"zh", "ja"}


def sentences(*parts: str) -> str:
    """Sentences one after the other as the language writes them: with a space in English,
    without one in Chinese and Japanese. Empty parts are left out."""
    glue = "" if current_language() in UNSPACED else " "
    return glue.join(p.strip() for p in parts if p and p.strip())


def listing(items) -> str:
    """Items of an enumeration: 'a, b, c' in English, 'a、b、c' in Chinese and Japanese."""
    return ("、" if current_language() in UNSPACED else ", ").join(str(i) for i in items)


def N_(message: str) -> str:
    """Mark a string for the catalogue without translating it yet (module constants)."""
    return message


def font_family(code: str | None = None) -> str:
    """A CSS font stack that renders the language's script (charts, the report)."""
    code = normalise(code) or current_language()
    fonts = BASE_FONTS + CJK_FONTS.get(code, ()) + tuple(f for c, fs in CJK_FONTS.items() if c != code for f in fs)
    return ", ".join(f'"{f}"' if " " in f else f for f in fonts) + ", sans-serif"
