"""Presenter mode: ?present=1 (or the sidebar toggle) draws every chart full width with larger
text and gives the page its keyboard navigation; off, the charts are as they were."""
from __future__ import annotations

import json
from streamlit.testing.v1 import AppTest

from attnviz.app.present import FONT_SIZE
from attnviz.figures.style import FONT_SIZE as NORMAL
from apptest_kit import no_trace


def fonts(at: AppTest) -> set[int]:
    return {json.loads(e.proto.spec)["layout"]["font"]["size"] for e in at.get("plotly_chart")}


def columns_with_charts(at: AppTest) -> int:
    """Page columns that hold a chart (narrow charts sharing a row take one column each)."""
    return sum(1 for column in at.columns if column.get("plotly_chart"))


def test_a_link_with_present_1_starts_presenter_mode(clean_clone):
    at = clean_clone
    at.query_params["present"] = "1"
    at.run()
    at.switch_page("attnviz/app/pages/explore.py").run()
    no_trace(at)
    assert at.sidebar.toggle(key="present").value is True
    assert fonts(at) == {FONT_SIZE}
    presenting = columns_with_charts(at)
    assert any("scroll-snap" in str(m.value) for m in at.markdown)
    at.sidebar.toggle(key="present").set_value(False).run()
    assert fonts(at) == {NORMAL}
    # Off, the two narrow charts (distribution, one block) share a row: two more chart columns.
    assert columns_with_charts(at) == presenting + 2
    assert "present" not in at.query_params


def test_without_it_the_page_is_as_before(clean_clone):
    at = clean_clone.run()
    at.switch_page("attnviz/app/pages/explore.py").run()
    assert at.sidebar.toggle(key="present").value is False
    assert fonts(at) == {NORMAL}
