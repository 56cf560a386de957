"""Page "Live camera": the browser's camera streams to the server (WebRTC, streamlit-webrtc), each
frame goes through the model with the same capture as every other page, and the gates move as
the object moves: drawn into the returned video, and beside it the top-5 and a chart of the last
seconds. The frame pipeline is Streamlit-free (``attnviz.live``); this page wires it to the
stream and shows what it reads.
"""
from __future__ import annotations

import functools
import time

import av
import streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer
from streamlit_webrtc.config import Translations

from attnviz.app.language import KEY as LANGUAGE_KEY
from attnviz.app.session_keys import LIVE_FROZEN
from attnviz.app.render import guard
from attnviz.app.state import Context, current_context, gate_label, query_choice, remember
from attnviz.figures.live import history_lines
from attnviz.i18n import _, language
from attnviz.views.kinds import value_label, view_of
from attnviz.live import LiveLimitError, LiveStream, LiveStreams, rtc_configuration
from attnviz.live.overlay import DIFF_RANGE
from attnviz.live.streams import limit_message

#: How often the numbers beside the video are redrawn (seconds).
REFRESH = 0.5
#: Camera resolution asked of the browser (the model sees its centre crop at 128-144 px).
CONSTRAINTS = {"video": {"width": {"ideal": 640}, "height": {"ideal": 480}, "frameRate": {"ideal": 30}},
               "audio": False}
#: Frames above this many pixels are scaled down first: the constraints above are a wish a browser
#: may ignore, and every frame is converted and drawn (memory and time follow its size).
MAX_PIXELS = 1280 * 720


@st.cache_resource
def live_streams() -> LiveStreams:
    """The server's live streams (ATTNVIZ_MAX_LIVE at once), shared by every session."""
    return LiveStreams()


class LiveProcessor:
    """streamlit-webrtc's video processor for one connection: each frame to the stream and back
    with the values drawn in; the stream ends with the track (``on_ended``)."""

    def __init__(self, streams: LiveStreams, loaded, gate: str) -> None:
        self.streams, self.loaded = streams, loaded
        self.refused = False
        self.stream: LiveStream | None = None
        self._open(gate)

    def _open(self, gate: str) -> None:
        try:
            self.stream = self.streams.open(self.loaded, gate)
            self.refused = False
        except LiveLimitError:
            self.refused = True

    def recv(self, frame: av.VideoFrame) -> av.VideoFrame:
        stream = self.stream
        if stream is not None and stream.closed and stream.end_reason == "idle":
            self._open(stream.gate)  # frames again after a pause: a new stream, if there is a place
            stream = self.stream
        if stream is None or stream.closed:
            return frame
        if frame.width * frame.height > MAX_PIXELS:
            scale = (MAX_PIXELS / (frame.width * frame.height)) ** 0.5
            frame = frame.reformat(width=max(2, int(frame.width * scale) // 2 * 2),
                                   height=max(2, int(frame.height * scale) // 2 * 2))
        out = stream.on_frame(frame.to_ndarray(format="rgb24"))
        return av.VideoFrame.from_ndarray(out, format="rgb24")

    def on_ended(self) -> None:
        if self.stream is not None:
            self.stream.close()


def live_fragment(body):
    """``st.fragment`` redrawn every REFRESH seconds, in the page's language (see language.fragment)."""
    @functools.wraps(body)
    def in_language(*args, **kwargs):
        with language(st.session_state.get(LANGUAGE_KEY)):
            return body(*args, **kwargs)

    return st.fragment(in_language, run_every=REFRESH)


def translations() -> Translations:
    return {"start": _("Start the camera"), "stop": _("Stop"), "select_device": _("Choose a camera"),
            "media_api_not_available": _("This browser cannot stream its camera here (it needs https or localhost)."),
            "device_ask_permission": _("Allow the browser to use the camera."),
            "device_not_available": _("No camera found."),
            "device_access_denied": _("The browser was not allowed to use the camera.")}


def page(ctx: Context) -> None:
    st.header(_("Live camera"))
    st.caption(_("Hold an object up to the camera and watch the attention gates move: the video comes back "
                 "with the chosen gate's values drawn in, and beside it the top-5 and the last seconds. "
                 "Bring the object closer to see SKNet's scale experiment happen in the room."))
    loaded = ctx.loaded
    if not loaded.gates:
        st.info(_("**{model}** has no channel attention gate (SE, ECA, SK or split attention) "
                  "that attnviz recognises; choose another model.").format(model=loaded.name))
        return
    names = [g.name for g in loaded.gates]
    gate = st.selectbox(_("Gate drawn on the video"), names, index=query_choice("gate", names, len(names) - 1),
                        key="live_gate", format_func=gate_label(ctx))
    remember("gate", gate)
    streams = live_streams()
    left, right = st.columns([3, 2])
    with left:
        # streamlit-webrtc types the factory's processor as its VideoProcessorBase; LiveProcessor does not
        # subclass it on purpose: the base's recv_queued raises, and the library calls any recv_queued it finds.
        webrtc = webrtc_streamer(  # type: ignore[type-var]
            key=f"live_{loaded.name}", mode=WebRtcMode.SENDRECV, rtc_configuration=rtc_configuration(),
            media_stream_constraints=CONSTRAINTS, async_processing=True, translations=translations(),
            video_processor_factory=lambda: LiveProcessor(streams, loaded, gate))
        st.caption(legend(ctx, gate))
        # Outside the panel that redraws itself twice a second, so that a click is never lost
        # to a redraw; the click reruns the page and takes the latest analysed frame.
        freeze = st.button(_("Freeze: open this frame in Explore"), key="live_freeze", icon=":material/pause:")
    processor = webrtc.video_processor
    stream = processor.stream if processor is not None else None
    if stream is not None and not stream.closed:
        stream.set_gate(gate)
    if freeze:
        png = stream.latest_frame_png() if stream is not None else None
        if png is None:
            left.info(_("No frame has been analysed yet: start the camera first."))
        else:
            st.session_state[LIVE_FROZEN] = (_("live frame {time}").format(time=time.strftime("%H:%M:%S")), png)
            st.switch_page("attnviz/app/pages/explore.py")
    with right:
        live_panel(ctx, webrtc, streams)


def legend(ctx: Context, gate_name: str) -> str:
    gate = ctx.loaded.gate(gate_name)
    label = value_label(gate)
    if gate.compares_paths:
        return view_of(gate).live_difference_legend().format(range=DIFF_RANGE, gate=gate_name, label=label)
    return _("Drawn on the video: every block's {label} per channel, one row per block (a small heatmap), and "
             "below, {gate}'s channels, taller (dark blue 0, yellow 1).").format(label=label, gate=gate_name)


@live_fragment
def live_panel(ctx: Context, webrtc, streams: LiveStreams) -> None:
    processor = webrtc.video_processor
    if processor is not None and processor.refused:
        st.warning(limit_message(streams.limit), icon=":material/group:")
        return
    stream = processor.stream if processor is not None else None
    if not webrtc.state.playing or stream is None:
        st.info(_("Press **Start the camera** and allow the browser to use it. Frames are analysed as fast as "
                  "the model allows; the others are skipped, so the values stay with the picture."),
                icon=":material/videocam:")
        return
    if stream.error is not None:
        st.error(_("The live analysis stopped: {error}").format(error=stream.error))
        return
    reading = stream.latest
    fps = stream.fps()
    a, b, c = st.columns(3)
    a.metric(_("frames per second"), "—" if fps is None else f"{fps:.1f}")
    b.metric(_("frames analysed"), stream.analysed)
    c.metric(_("frames skipped"), stream.dropped, help=_("Frames that came while the model was busy: dropped, "
                                                         "never queued, so the values never lag behind"))
    if reading is None:
        st.caption(_("Waiting for the first frame …"))
        return
    rows = "\n".join(f"| {r.label} | {r.prob:.1%} |" for r in reading.top)
    st.markdown(f"| {_('class')} | {_('probability')} |\n|---|---|\n{rows}")
    times, series = stream.history.series(now=time.monotonic())
    gate = ctx.loaded.gate(reading.gate)
    if reading.selection:
        title = _("b − a of every unit, the last {seconds:g} s").format(seconds=stream.history.seconds)
        y_title = "b − a"
    else:
        label = value_label(gate)
        title = _("Mean {label} of {gate}, the last {seconds:g} s").format(label=label, gate=reading.gate,
                                                                           seconds=stream.history.seconds)
        y_title = _("mean {label}").format(label=label)
    st.plotly_chart(history_lines(times, series, title, y_title, zero_line=reading.selection), key="live_history",
                    config={"displayModeBar": False}, width="stretch")


if (ctx := current_context()) is not None:
    guard(functools.partial(page, ctx))
