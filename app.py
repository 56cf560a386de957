"""attnviz: see channel attention in CNNs. Run with ``streamlit run app.py``.

The entry only: page configuration, the shared sidebar and the navigation. Each page is a script
in ``attnviz/app/`` that Streamlit runs for its URL; everything the pages compute comes from the
library (``attnviz``), which notebooks and the CLI use too. Data flows one way: model -> images ->
cached analyses -> charts -> pages.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from attnviz.app.render import guard
from attnviz.app.sidebar import sidebar
from attnviz.app.state import set_context
from attnviz.devices import configure_cpu_threads
from attnviz.memory import limit_heap_retention

configure_cpu_threads()  # interactive latency: fewer threads than cores is faster on small machines
limit_heap_retention()  # large decodes give their memory back instead of holding the peak

st.set_page_config(page_title="attnviz — channel attention", page_icon="🔎", layout="wide")

HERE = Path(__file__).resolve().parent
#: (page script, title, URL path): the URL names the page, so a link can be shared.
PAGES = [
    ("explore", "Explore an image", "explore"),
    ("compare", "Compare classes", "compare"),
    ("scale", "Scale experiment (SK)", "scale"),
    ("attribution", "Attribution", "attribution"),
    ("learn", "Learn", "learn"),
]


def main() -> None:
    navigation = st.navigation([st.Page(f"attnviz/app/{script}.py", title=title, url_path=path, default=i == 0)
                                for i, (script, title, path) in enumerate(PAGES)], position="sidebar")
    set_context(sidebar(HERE))  # None (after saying why) when no model can be used
    navigation.run()


guard(main)
