"""attnviz: see channel attention in CNNs. Run with ``streamlit run app.py``.

The entry only: page configuration, the shared sidebar and the navigation. Each page is a script
in ``attnviz/app/pages/`` that Streamlit runs for its URL; everything the pages compute comes from the
library (``attnviz``), which notebooks and the CLI use too. Data flows one way: model -> images ->
cached analyses -> charts -> pages.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from attnviz.app.language import language_picker, use_language  # light: no PyTorch yet
from attnviz.i18n import N_, _

use_language()  # ?lang=, else the browser's Accept-Language, else ATTNVIZ_LANG, else English
st.set_page_config(page_title=_("attnviz — channel attention"), page_icon="🔎", layout="wide")
# A cold server spends seconds importing PyTorch and timm: say so from the first second.
starting = st.empty()
starting.info(_("**attnviz is starting**: loading PyTorch and the attention models (a few seconds, "
                "only the first time the server runs) …"), icon=":material/hourglass_top:")

import attnviz.app.boot  # noqa: E402,F401  (after the message above, on purpose; one import at a time)
from attnviz.app.render import guard  # noqa: E402
from attnviz.app.sidebar import sidebar  # noqa: E402
from attnviz.app.state import set_context  # noqa: E402
from attnviz.runtime.devices import configure_cpu_threads  # noqa: E402
from attnviz.runtime.memory import limit_heap_retention  # noqa: E402

configure_cpu_threads()  # interactive latency: fewer threads than cores is faster on small machines
limit_heap_retention()  # large decodes give their memory back instead of holding the peak

HERE = Path(__file__).resolve().parent
#: (page script, title, icon, URL path): the URL names the page, so a link can be shared.
PAGES = [
    ("home", N_("Start here"), ":material/home:", "home"),
    ("learn", N_("Learn step by step"), ":material/school:", "learn"),
    ("explore", N_("Explore a photo"), ":material/image_search:", "explore"),
    ("compare", N_("Compare classes"), ":material/bar_chart:", "compare"),
    ("scale", N_("Scale experiment (from SKNet)"), ":material/zoom_in:", "scale"),
    ("attribution", N_("Attribution"), ":material/target:", "attribution"),
    ("models", N_("Compare models"), ":material/compare:", "models"),
    ("live", N_("Live camera"), ":material/videocam:", "live"),
]
#: The pages that open on a sample photo (the live example) for a visitor who has no image yet.
OPEN_ON_EXAMPLE = {"explore", "learn"}


def main() -> None:
    navigation = st.navigation([st.Page(f"attnviz/app/pages/{script}.py", title=_(title), icon=icon, url_path=path,
                                        default=i == 0) for i, (script, title, icon, path) in enumerate(PAGES)],
                               position="sidebar")
    language_picker()
    # None (after saying why) when no model can be used
    set_context(sidebar(HERE, starting, live_example=navigation.url_path in OPEN_ON_EXAMPLE))
    navigation.run()


guard(main)
