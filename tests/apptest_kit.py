"""What the AppTest modules (tests/app/test_app*.py) share besides their fixtures (those are in
tests/app/conftest.py): reading a run's charts and text, the checks that no traceback or page-level
error reached the reader, and opening a page the way its URL would."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

#: Seconds AppTest waits for one script run (a first forward pass on 2 shared cores).
TIMEOUT = 120
#: The sample photos most AppTest runs pick in the sidebar.
SAMPLES = ["n01440764_tench.JPEG", "n01443537_goldfish.JPEG"]
#: The page scripts of st.navigation (attnviz/app/pages/), by their English title.
PAGE_SCRIPTS = {"Start here": "home", "Explore a photo": "explore", "Compare classes": "compare",
                "Scale experiment (from SKNet)": "scale", "Attribution": "attribution", "Learn": "learn"}


def array_of(values) -> np.ndarray:
    """A plotted array from a chart's JSON (plotly sends numeric arrays as base64 typed arrays)."""
    if isinstance(values, dict) and "bdata" in values:
        import base64

        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    return np.asarray(values, dtype=float)


def chart_keys(at: AppTest) -> list[str]:
    return [e.key for e in at.get("plotly_chart")]


def chart_titles(at: AppTest) -> list[str]:
    titles = []
    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        # Long titles are wrapped with <br> to fit the chart (figures/style.py): read them as one line.
        titles.append(spec["layout"].get("title", {}).get("text", "").replace("<br>", " "))
    return titles


def text_of(elements) -> str:
    """The elements' text as the reader sees it: names are put in as literal Markdown
    (``attnviz.figures.literal.markdown_text``: punctuation backslash-escaped), so the escapes are undone."""
    from attnviz.figures.literal import unescape_markdown

    return "\n".join(unescape_markdown(str(e.value)) for e in elements)


def no_trace(at: AppTest, no_errors: bool = False) -> None:
    """No exception, no traceback and no page-level "Something went wrong" reached the reader;
    ``no_errors``: no error message at all either."""
    assert not at.exception, [e.value for e in at.exception]
    assert "Traceback" not in text_of(at.error) + text_of(at.markdown)
    assert "Something went wrong" not in text_of(at.error)
    if no_errors:
        assert not at.error, text_of(at.error)


def by_label(widgets, label: str):
    [found] = [w for w in widgets if w.label == label]
    return found


def upload(at: AppTest, *files: tuple[str, bytes]) -> AppTest:
    """Upload on the Explore page (the app opens on its home page)."""
    at.switch_page("attnviz/app/pages/explore.py")
    at.sidebar.file_uploader(key="uploads").set_value([(n, d, "application/octet-stream") for n, d in files])
    return at.run()


def goto(at: AppTest, page: str) -> AppTest:
    """Open a page as its URL would (st.navigation's page scripts in attnviz/app/pages/)."""
    return at.switch_page(f"attnviz/app/pages/{PAGE_SCRIPTS[page]}.py").run()


def on_page(at: AppTest, page: str, model: str = "test_se", samples=SAMPLES) -> AppTest:
    """``page`` with ``model`` chosen and ``samples`` picked from the samples folder the app
    serves (``ATTNVIZ_SAMPLES``, set by ``bundled_kit.app_test``)."""
    at.run()
    at.sidebar.selectbox(key="model").set_value(model)
    folder = Path(os.environ["ATTNVIZ_SAMPLES"])
    at.sidebar.multiselect(key="samples").set_value([str(folder / s) for s in samples])
    at.run()
    return goto(at, page)
