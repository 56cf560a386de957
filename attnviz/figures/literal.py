"""Names that visitors choose, shown as the text they are: one home for how a user-supplied name
(a file, a zip entry, a class, a profile's model) is put into a page, a chart or a report.

Streamlit renders Markdown in every text element (links, images that the browser then fetches,
LaTeX between ``$``, emoji and colour shortcodes such as ``:red[...]``), and plotly renders a
subset of HTML in titles, labels, legends and hover text (``<a href>``, ``<b>``, ``<br>``). A file
named ``![t](http://127.0.0.1:9/x.png).jpg`` must show those characters, not make the visitor's
browser fetch that address.
"""
from __future__ import annotations

import re

#: Every ASCII punctuation character: CommonMark lets any of them be escaped with a backslash,
#: and escaping all of them also covers Streamlit's own syntax ($ for LaTeX, : for shortcodes).
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_CHART = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
#: GitHub-flavoured Markdown also links bare addresses (``http://…``, ``www.…``, ``a@b.c``), and
#: Streamlit's parser finds them in the text after the backslash escapes are resolved, so escaping
#: cannot stop it. An invisible WORD JOINER (U+2060) inside each such pattern breaks the match
#: and leaves what the visitor reads unchanged.
WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)(:(?=//)|www(?=\.)|@)")


def markdown_text(name: object) -> str:
    """``name`` as Markdown that renders as exactly its characters: every punctuation mark
    backslash-escaped, line breaks as spaces (a name is one line), and a word joiner inside every
    bare address (``http://``, ``www.``, ``@``) so that it is not made a link."""
    text = _AUTOLINK.sub(lambda m: m.group(1) + WORD_JOINER, " ".join(str(name).splitlines()))
    return _PUNCTUATION.sub(r"\\\1", text)


def chart_text(name: object) -> str:
    """``name`` for a plotly title, label, legend or hover text: ``&``, ``<`` and ``>`` as
    entities, so no tag in it is rendered (plotly shows the entities as the characters)."""
    return " ".join(str(name).splitlines()).translate(_CHART)


def unescape_markdown(text: str) -> str:
    """The characters ``markdown_text`` escaped, back (for the report, which renders the pages'
    Markdown itself: see ``views.report``)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text).replace(WORD_JOINER, "")
