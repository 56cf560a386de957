"""The Live page's glue: "freeze" in Streamlit's AppTest (a frozen frame reaches Explore with its
charts, and leaves when unticked), and the video processor that streamlit-webrtc runs per
connection, with a real stream. (streamlit-webrtc needs Streamlit's real runtime, which AppTest does not
have: the page itself is tested in the browser, tests/app/test_browser_live.py.)"""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from apptest_kit import no_trace

def test_a_frozen_frame_opens_in_explore_with_its_charts(app):
    at = app.run()
    frame = np.zeros((240, 320, 3), np.uint8)
    frame[60:180, 100:220] = (250, 250, 250)
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="PNG")
    at.session_state["_live_frozen"] = ("live frame 10:00:00", buffer.getvalue())
    at.switch_page("attnviz/app/pages/explore.py").run()
    no_trace(at)
    titles = [json.loads(e.proto.spec)["layout"].get("title", {}).get("text", "") for e in at.get("plotly_chart")]
    assert any("live frame 10:00:00" in t for t in titles), titles
    box = at.sidebar.checkbox(key="use_frozen_live frame 10:00:00")
    assert box.value
    box.uncheck()
    at.run()
    titles = [json.loads(e.proto.spec)["layout"].get("title", {}).get("text", "") for e in at.get("plotly_chart")]
    assert not any("live frame" in t for t in titles)


def test_the_processor_bounds_frames_takes_a_place_and_gives_it_back(sk_model):
    """streamlit-webrtc's processor for one connection, with a real stream: an oversized frame
    is scaled down before it is analysed and comes back with the values drawn; the one over the
    limit is refused (and passes frames through); the end of the track frees the place."""
    import time

    import av

    from attnviz.app.pages.live import MAX_PIXELS, LiveProcessor
    from attnviz.live import LiveStreams

    streams = LiveStreams(limit=1)
    gate = sk_model.gates[-1].name
    processor = LiveProcessor(streams, sk_model, gate)
    other = LiveProcessor(streams, sk_model, gate)
    assert not processor.refused and other.refused and streams.active == 1
    big = av.VideoFrame.from_ndarray(np.full((2160, 3840, 3), 120, np.uint8), format="rgb24").reformat(format="yuv420p")
    assert other.recv(big) is big
    out = processor.recv(big)
    assert out.width * out.height <= MAX_PIXELS and out.width / out.height == pytest.approx(16 / 9, rel=0.01)
    deadline = time.monotonic() + 60
    while processor.stream.latest is None:      # wait for the analysis (a condition, not a time)
        assert time.monotonic() < deadline and not processor.stream.closed
        time.sleep(0.01)
    drawn = processor.recv(big).to_ndarray(format="rgb24")
    plain = big.reformat(width=out.width, height=out.height).to_ndarray(format="rgb24")
    assert (drawn[-10:] != plain[-10:]).any()    # the strip at the bottom
    processor.on_ended()
    assert processor.stream.closed and streams.active == 0
    last = LiveProcessor(streams, sk_model, gate)
    assert not last.refused
    last.on_ended()
