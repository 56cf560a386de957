"""Presenter mode, for projecting a page in a lecture hall: a sidebar toggle (and ``?present=1`` in
a link) that draws every chart full width with larger text, gives each chart the screen's height
(one chart at a time, the page snapping from one to the next) and lets the keyboard move between
them: → / ↓ / Page Down / Space the next chart, ← / ↑ / Page Up the previous one.

Streamlit draws no keyboard handler of its own; a zero-height component runs a small script in the
page (the component's frame shares the app's origin) that scrolls Streamlit's main container.
"""
from __future__ import annotations

import streamlit as st

from ..i18n import _

KEY = "present"
#: Chart text and height in presenter mode, against FONT_SIZE (14) in figures/style.py.
FONT_SIZE = 20
HEIGHT_SCALE = 1.35

_CSS = """<style>
html, .stMarkdown, .stCaption, [data-testid="stCaptionContainer"] { font-size: 1.3rem !important; }
h1 { font-size: 3rem !important; } h2, h3 { font-size: 2.2rem !important; }
[data-testid="stMain"] { scroll-snap-type: y proximity; }
[data-testid="stPlotlyChart"] { scroll-snap-align: start; min-height: 80vh; }
</style>"""

_KEYS = """<script>
const doc = window.parent.document;
if (!doc.attnvizPresenter) {
  doc.attnvizPresenter = true;
  doc.addEventListener('keydown', (event) => {
    const t = event.target; if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable)) return;
    const next = ['ArrowRight', 'ArrowDown', 'PageDown', ' '].includes(event.key);
    const back = ['ArrowLeft', 'ArrowUp', 'PageUp'].includes(event.key);
    if (!next && !back) return;
    const charts = [...doc.querySelectorAll('[data-testid="stPlotlyChart"]')];
    if (!charts.length) return;
    event.preventDefault();
    const tops = charts.map((c) => c.getBoundingClientRect().top);
    let i = next ? tops.findIndex((top) => top > 8) : tops.map((top) => top < -8).lastIndexOf(true);
    if (i < 0) i = next ? charts.length - 1 : 0;
    charts[i].scrollIntoView({behavior: 'smooth', block: 'start'});
  });
}
</script>"""


def presenting() -> bool:
    """Whether this session shows pages in presenter mode."""
    return bool(st.session_state.get(KEY))


def presenter_toggle() -> None:
    """The sidebar's toggle, started by ``?present=1``; kept in the link so that it can be shared."""
    if KEY not in st.session_state:
        st.session_state[KEY] = st.query_params.get("present") == "1"
    on = st.sidebar.toggle(_("Presenter mode"), key=KEY,
                           help=_("For a projector: every chart full width, larger text, one chart per "
                                  "screen; the arrow keys (or Page Up/Down, Space) move between charts."))
    if on:
        st.query_params["present"] = "1"
        st.markdown(_CSS, unsafe_allow_html=True)
        import streamlit.components.v1 as components

        components.html(_KEYS, height=0)
    else:
        st.query_params.pop("present", None)


def for_projector(fig):
    """A copy of ``fig`` with presenter-mode text and height (the figure itself is shared)."""
    import plotly.graph_objects as go

    fig = go.Figure(fig)
    fig.update_layout(font_size=FONT_SIZE, hoverlabel_font_size=FONT_SIZE)
    if fig.layout.height:
        fig.update_layout(height=int(fig.layout.height * HEIGHT_SCALE))
    return fig
