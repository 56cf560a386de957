"""Live attention: a camera's video stream through the model, frame by frame, without Streamlit.

The pieces, one concept each: ``slot`` (a one-frame mailbox: the latest frame wins, older ones
are dropped, never queued), ``reading`` (what one analysed frame shows: top-5, the chosen gate's
values, every unit's summary, asked of each gate's kind), ``overlay`` (those values drawn into the
returned video frame with numpy), ``history`` (the last seconds of readings, for a chart),
``stream`` (one stream: its analyser thread, its frame rate, its end) and ``streams`` (the
server's live streams, at most ``ATTNVIZ_MAX_LIVE``). ``ice`` reads ``ATTNVIZ_ICE_SERVERS``.
The app's Live page (``attnviz/app/pages/live.py``) wires them to streamlit-webrtc.
"""
from __future__ import annotations

from .history import RollingHistory
from .ice import ice_servers, rtc_configuration
from .overlay import draw_overlay
from .reading import LiveReading, read_frame
from .slot import LatestSlot
from .stream import LiveStream
from .streams import LiveLimitError, LiveStreams, live_limit

__all__ = ["LatestSlot", "LiveReading", "read_frame", "draw_overlay", "RollingHistory", "LiveStream",
           "LiveStreams", "LiveLimitError", "live_limit", "ice_servers", "rtc_configuration"]
