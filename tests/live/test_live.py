"""The live page's frame pipeline, without Streamlit or a browser: the latest-frame-wins slot, a
frame's reading (checked against `attnviz inspect` and the definitions), the overlay drawn into
the frame (checked pixel by pixel against the values), the rolling history, a stream's thread,
its frame counts and its end (closed or abandoned, memory let go), the server's live limit and
the ICE configuration (checked against what streamlit-webrtc and aiortc do with it)."""
from __future__ import annotations

import gc
import json
import subprocess
import sys
import threading
import time
import weakref

import numpy as np
import pytest
from PIL import Image

from attnviz.errors import AttnvizError
from attnviz.live import LatestSlot, LiveLimitError, LiveStreams, RollingHistory, draw_overlay, live_limit, read_frame
from attnviz.live.ice import ice_servers, rtc_configuration
from attnviz.live.overlay import BACKGROUND, DIFF_RANGE, FALL, LUT, RISE, Layout, strip
from attnviz.analysis.inference import TopClass
from attnviz.live.reading import LiveReading
from attnviz.live.stream import LiveStream


def wait_until(condition, timeout: float = 60.0) -> None:
    """Wait for a condition (not for a time): fail only if it never comes within a generous limit."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached within the time limit")
        time.sleep(0.01)


# ------------------------------------------------------------------ the slot

def test_slot_keeps_only_the_newest_item():
    slot = LatestSlot()
    for i in range(100):
        slot.put(i)
    assert slot.take(timeout=0) == 99
    assert (slot.put_count, slot.taken_count, slot.dropped) == (100, 1, 99)
    assert slot.take(timeout=0) is None  # taken once only


def test_slot_close_wakes_a_waiting_consumer_and_drops_the_item():
    slot = LatestSlot()
    got, started = [], threading.Event()

    def consumer():
        started.set()
        got.append(slot.take(timeout=None))

    thread = threading.Thread(target=consumer)
    thread.start()
    started.wait()
    slot.close()
    thread.join(timeout=30)
    assert not thread.is_alive() and got == [None]
    slot.put("late")  # after close: refused
    assert slot.take(timeout=0) is None


# ------------------------------------------------------------------ a frame's reading

@pytest.fixture(scope="module")
def sk_bundled():
    from attnviz.models.zoo import load_model
    return load_model("sk_resnet18_imagenette")


@pytest.fixture(scope="module")
def se_bundled():
    from attnviz.models.zoo import load_model
    return load_model("se_resnet18_imagenette")


def camera_frame(path, size=(320, 240)) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB").resize(size, Image.Resampling.BILINEAR))


def inspect_json(model: str, png) -> dict:
    out = subprocess.run([sys.executable, "-m", "attnviz", "inspect", str(png), "--model", model, "--json", "--values"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["images"][0]


@pytest.mark.slow
def test_reading_equals_attnviz_inspect_on_the_same_frame(sk_bundled, samples_dir, tmp_path):
    frame = camera_frame(samples_dir / "n01440764_tench.JPEG")
    png = tmp_path / "frame.png"
    Image.fromarray(frame).save(png)
    reading = read_frame(sk_bundled, frame, "SK_4_1")
    expected = inspect_json("sk_resnet18_imagenette", png)
    assert [r.index for r in reading.top] == [r["index"] for r in expected["top5"]]
    np.testing.assert_allclose([r.prob for r in reading.top], [r["prob"] for r in expected["top5"]], atol=1e-5)
    gates = {g["name"]: np.asarray(g["values"]) for g in expected["gates"]}
    np.testing.assert_allclose(reading.channels, gates["SK_4_1"][1], atol=1e-5)   # b, the 5×5 weight
    assert reading.mean == pytest.approx(gates["SK_4_1"][1].mean(), abs=1e-5)
    assert list(reading.differences) == [g.name for g in sk_bundled.gates]
    for name, diff in reading.differences.items():                               # SKNet: mean(b − a)
        assert diff == pytest.approx((gates[name][1] - gates[name][0]).mean(), abs=1e-5)
    assert reading.selection and reading.rows == {} and reading.series() == reading.differences


def test_reading_of_a_channel_gate_model(se_bundled, samples_dir):
    frame = camera_frame(samples_dir / "n01443537_goldfish.JPEG")
    reading = read_frame(se_bundled, frame, "SE_3_1")
    from attnviz.analysis.inference import analyse_images
    values = analyse_images(se_bundled, [Image.fromarray(frame)])[0].values
    assert not reading.selection and reading.differences == {}
    assert list(reading.rows) == [g.name for g in se_bundled.gates]
    np.testing.assert_allclose(reading.channels, values["SE_3_1"][0], atol=1e-6)
    assert reading.series() == {"SE_3_1": pytest.approx(float(values["SE_3_1"][0].mean()))}


def test_a_frame_that_is_not_rgb_is_refused_by_name(se_bundled):
    with pytest.raises(ValueError, match="uint8 RGB"):
        read_frame(se_bundled, np.zeros((10, 10, 4), np.uint8), "SE_3_1")


# ------------------------------------------------------------------ the overlay

def hand_reading(selection: bool) -> LiveReading:
    rng = np.random.default_rng(0)
    channels = rng.random(48).astype(np.float32)
    if selection:
        return LiveReading(1, 0.0, 0.0, [TopClass(0, "golf ball", 0.5)], "U2", 2, channels,
                           float(channels.mean()), differences={"U1": 0.05, "U2": -0.1, "U3": 0.3, "U4": 0.0})
    rows = {f"G{i}": rng.random(c).astype(np.float32) for i, c in enumerate((8, 16, 48))}
    return LiveReading(1, 0.0, 0.0, [TopClass(0, "tench", 0.9)], "G2", 1, rows["G2"],
                       float(rows["G2"].mean()), rows=rows)


def test_viridis_table_ends_on_viridis_colours():
    assert LUT.shape == (256, 3)
    assert tuple(LUT[0]) == (0x44, 0x01, 0x54) and tuple(LUT[-1]) == (0xfd, 0xe7, 0x25)


def test_the_strip_shows_each_channel_in_its_columns():
    frame = np.full((240, 320, 3), 128, np.uint8)
    reading = hand_reading(selection=False)
    out = draw_overlay(frame, reading, fps=10.0)
    layout = Layout.of(240, 320, reading)
    row = out[layout.strip[0] + 1]
    channels = reading.channels
    for x in range(320):
        c = x * len(channels) // 320                                   # channel c owns these columns
        assert tuple(row[x]) == tuple(LUT[int(round(float(np.clip(channels[c], 0, 1)) * 255))])
    # every block's row of the heatmap, in depth order, each stretched to the width
    for i, values in enumerate(reading.rows.values()):
        y = layout.panel[0] + i * layout.row_height
        np.testing.assert_array_equal(out[y], strip(values, 320))
    # above the panels the picture is untouched (but for the label), and the input is not modified
    np.testing.assert_array_equal(out[60:layout.panel[0] - 1], frame[60:layout.panel[0] - 1])
    assert (frame == 128).all()


def test_bars_show_each_units_b_minus_a_from_the_zero_line():
    frame = np.full((240, 320, 3), 128, np.uint8)
    reading = hand_reading(selection=True)
    out = draw_overlay(frame, reading)
    layout = Layout.of(240, 320, reading)
    columns = layout.bar_columns(4)
    assert all(left < right for left, right in columns)
    for (left, right), diff in zip(columns, reading.differences.values(), strict=True):
        column = out[layout.panel[0]:layout.panel[1], (left + right) // 2]
        colour = RISE if diff >= 0 else FALL
        painted = int((column == colour).all(axis=1).sum())
        expected = round(min(abs(diff) / DIFF_RANGE, 1.0) * layout.half)  # 0.3 is clipped to full height
        assert painted == expected
        rows = np.flatnonzero((column == colour).all(axis=1)) + layout.panel[0]
        if diff > 0:
            assert rows.max() == layout.zero_line - 1                   # rising bars go up from zero
        elif diff < 0:
            assert rows.min() == layout.zero_line + 1
    assert (out[layout.zero_line, 2] == 200).all()
    # between bars: the panel's background
    gap = columns[0][1] + 1 if columns[0][1] + 1 < columns[1][0] else columns[0][1]
    assert tuple(out[layout.zero_line - 3, gap]) == tuple(BACKGROUND)


def test_no_reading_returns_an_untouched_copy():
    frame = np.arange(24 * 32 * 3, dtype=np.uint8).reshape(24, 32, 3)
    out = draw_overlay(frame, None)
    np.testing.assert_array_equal(out, frame)
    assert out is not frame


def test_the_label_names_top_one_and_fps():
    frame = np.zeros((240, 320, 3), np.uint8)
    with_fps = draw_overlay(frame, hand_reading(False), fps=12.5)
    without = draw_overlay(frame, hand_reading(False))
    assert (with_fps[:20, :40] > 200).any()                           # white text top left
    assert (with_fps[:20] != without[:20]).any()                      # the fps adds text


# ------------------------------------------------------------------ the history

def test_history_keeps_the_window_and_marks_missing_values():
    history = RollingHistory(seconds=2.0)
    for t in range(6):
        history.add(float(t), {"a": t * 1.0} if t < 4 else {"b": -t * 1.0})
    times, series = history.series()
    np.testing.assert_array_equal(times, [-2.0, -1.0, 0.0])          # points 3, 4, 5
    np.testing.assert_array_equal(series["a"], [3.0, np.nan, np.nan])
    np.testing.assert_array_equal(series["b"], [np.nan, -4.0, -5.0])
    with pytest.raises(ValueError, match="time order"):
        history.add(1.0, {"a": 0.0})
    with pytest.raises(ValueError, match="positive"):
        RollingHistory(0)


# ------------------------------------------------------------------ a stream

def test_stream_analyses_the_latest_frame_and_draws_its_values(sk_model):
    frames = [np.full((96, 128, 3), v, np.uint8) for v in (30, 220)]
    stream = LiveStream(sk_model, sk_model.gates[-1].name, idle_timeout=600).start()
    try:
        first = stream.on_frame(frames[0])
        np.testing.assert_array_equal(first, frames[0])              # nothing analysed yet
        wait_until(lambda: stream.latest is not None)
        a = stream.latest
        out = stream.on_frame(frames[0])
        np.testing.assert_array_equal(out, draw_overlay(frames[0], a, stream.fps()))
        # 50 new frames at once: the analyser takes the newest, the others are dropped
        for _ in range(50):
            stream.on_frame(frames[1])
        wait_until(lambda: stream.latest.index == stream.received - 1)
        b = stream.latest
        assert stream.analysed + stream.dropped == stream.received    # each frame analysed or dropped, none queued
        assert stream.analysed < stream.received
        offline = read_frame(sk_model, frames[1], sk_model.gates[-1].name)
        np.testing.assert_allclose(b.channels, offline.channels, atol=1e-6)
        assert b.differences != a.differences                           # the values follow the frames
        assert len(stream.latencies) >= 1 and min(stream.latencies) >= 0
        png = stream.latest_frame_png()
        np.testing.assert_array_equal(np.asarray(Image.open(__import__("io").BytesIO(png))), frames[1])
        times, series = stream.history.series()
        assert set(series) == set(b.differences) and len(times) == stream.analysed
        stream.set_gate(sk_model.gates[0].name)
        with pytest.raises(KeyError):
            stream.set_gate("no such gate")
    finally:
        stream.close()
    assert stream.closed and stream.end_reason == "closed" and not stream._thread.is_alive()
    assert stream.latest is None and stream.latest_frame_png() is None and len(stream.history) == 0


def test_a_failing_analysis_ends_the_stream_with_its_reason(sk_model):
    stream = LiveStream(sk_model, sk_model.gates[0].name, idle_timeout=600).start()
    stream.on_frame(np.zeros((10, 10, 4), np.uint8))                  # not RGB: read_frame refuses it
    assert stream.ended.wait(60)
    assert stream.end_reason == "error" and "uint8 RGB" in stream.error


# ------------------------------------------------------------------ the server's streams

def test_the_live_limit_refuses_the_one_over_and_names_it(sk_model):
    streams = LiveStreams(limit=1)
    gate = sk_model.gates[0].name
    first = streams.open(sk_model, gate, idle_timeout=600)
    try:
        with pytest.raises(LiveLimitError, match="ATTNVIZ_MAX_LIVE=1"):
            streams.open(sk_model, gate)
        assert streams.active == 1
    finally:
        first.close()
    assert streams.active == 0
    streams.open(sk_model, gate, idle_timeout=600).close()           # the place was given back


def test_an_abandoned_stream_ends_and_frees_its_memory(sk_model):
    """The browser stops sending frames without closing the connection: after idle_timeout the
    stream ends by itself, gives its place back and holds no frame, reading or history."""
    streams = LiveStreams(limit=1)
    stream = streams.open(sk_model, sk_model.gates[0].name, idle_timeout=0.3)
    frame = np.full((64, 64, 3), 90, np.uint8)
    seen = weakref.ref(frame)
    stream.on_frame(frame)
    wait_until(lambda: stream.analysed >= 1 or stream.closed)
    reading = weakref.ref(stream.latest) if stream.latest is not None else None
    del frame
    assert stream.ended.wait(60)                                      # no more frames: it ends itself
    assert stream.end_reason == "idle" and streams.active == 0
    stream._thread.join(timeout=60)
    assert not stream._thread.is_alive()
    gc.collect()
    assert seen() is None                                             # the frame's memory is freed
    assert reading is None or reading() is None
    assert len(stream.history) == 0
    streams.open(sk_model, sk_model.gates[0].name, idle_timeout=600).close()


def test_live_limit_from_the_environment(monkeypatch):
    monkeypatch.delenv("ATTNVIZ_MAX_LIVE", raising=False)
    assert live_limit() == 4
    monkeypatch.setenv("ATTNVIZ_MAX_LIVE", "2")
    assert live_limit() == 2
    monkeypatch.setenv("ATTNVIZ_MAX_LIVE", "zero")
    with pytest.raises(AttnvizError, match="ATTNVIZ_MAX_LIVE"):
        live_limit()


# ------------------------------------------------------------------ ICE servers

def test_no_ice_server_by_default(monkeypatch):
    monkeypatch.delenv("ATTNVIZ_ICE_SERVERS", raising=False)
    assert rtc_configuration() == {"iceServers": []}


def test_streamlit_webrtc_and_aiortc_contact_no_stun_server_with_the_default():
    """streamlit-webrtc fills in Google's STUN server when iceServers is missing (None), and so
    does aiortc; the explicit empty list must reach aiortc as no server at all."""
    from aiortc.rtcicetransport import RTCIceGatherer
    from streamlit_webrtc.component import _resolve_server_rtc_configuration

    server = _resolve_server_rtc_configuration(rtc_configuration(""))
    assert server.iceServers == []
    gatherer = RTCIceGatherer(iceServers=server.iceServers)
    assert gatherer._connection.stun_server is None and gatherer._connection.turn_server is None
    default = RTCIceGatherer()                                        # what would happen without it
    assert default._connection.stun_server is not None


def test_ice_servers_named_by_the_operator():
    assert ice_servers("stun:stun.example.org:3478, turn:turn.example.org:3478") == [
        {"urls": "stun:stun.example.org:3478"}, {"urls": "turn:turn.example.org:3478"}]
    named = '[{"urls": ["turn:t.example.org:3478"], "username": "u", "credential": "p"}]'
    assert ice_servers(named) == [{"urls": ["turn:t.example.org:3478"], "username": "u", "credential": "p"}]
    for bad in ("http://example.org", "[{\"urls\": 3}]", "[not json", "{}"):
        with pytest.raises(AttnvizError, match="ATTNVIZ_ICE_SERVERS"):
            ice_servers(bad)
