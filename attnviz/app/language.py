"""The visitor's language: from the link, the sidebar, the browser, or the server's default.

A shared link wins (``?lang=zh``), so a teacher can hand out a link in the class's language; the
sidebar's picker writes the same parameter. Without one, the language already used in this session
(Streamlit's page links drop the parameter), then the browser's ``Accept-Language``, then
``ATTNVIZ_LANG`` (the server's default), then English. The chosen language is written back into
the address, so the link in the address bar is always one to share. Light on purpose: ``app.py``
reads it before PyTorch is imported, to greet a visitor in their language while the server starts.
"""
from __future__ import annotations

import functools
from typing import TypeVar, cast
from collections.abc import Callable, Mapping

import streamlit as st

from ..i18n import LANGUAGES, _, default_language, language, negotiate, normalise, set_language
from .session_keys import LANGUAGE_PICKER

KEY = "attnviz_language"
F = TypeVar("F", bound=Callable)


def requested_language() -> str:
    """The language this run should use (not yet set)."""
    linked = normalise(st.query_params.get("lang"))
    if linked is not None:
        return linked
    kept = normalise(st.session_state.get(KEY))  # a page link drops ?lang=; the session keeps it
    if kept is not None:
        return kept
    try:
        browser = negotiate(st.context.headers.get("Accept-Language"))
    except Exception:  # noqa: BLE001 - no request headers (AppTest, bare mode): the default
        browser = None
    return browser or default_language()


def use_language() -> str:
    """Set this run's language and remember it for the run's fragments."""
    code = set_language(requested_language())
    st.session_state[KEY] = code
    if st.query_params.get("lang") != code:
        st.query_params["lang"] = code  # the address bar always holds a link in this language
    return code


def language_picker() -> None:
    """The sidebar's picker; the choice goes into the URL so that the link keeps it."""
    codes = list(LANGUAGES)
    current = st.session_state.get(KEY, default_language())

    def chosen() -> None:
        st.query_params["lang"] = st.session_state[LANGUAGE_PICKER]

    st.session_state[LANGUAGE_PICKER] = current  # the link may have changed it since the last run
    st.sidebar.selectbox(_("Language"), codes, format_func=LANGUAGES.__getitem__, key=LANGUAGE_PICKER, on_change=chosen,
                         help=_("The page's language; the link keeps it (?lang=…), so you can share it."))


def translated(labels: Mapping[str, str]) -> dict[str, str]:
    """Labels of values the code compares (marked with N_), translated now, while the run knows its
    language: a picker's format_func may be called again after the run has ended."""
    return {value: _(label) for value, label in labels.items()}


def fragment(body: F) -> F:
    """``st.fragment`` in the page's language: a fragment's rerun skips ``app.py``, so it sets the
    language that the full run chose (a context variable does not outlive its run)."""
    @functools.wraps(body)
    def in_language(*args, **kwargs):
        with language(st.session_state.get(KEY)):
            return body(*args, **kwargs)

    return cast(F, st.fragment(in_language))  # st.fragment keeps the signature; its stub says otherwise
