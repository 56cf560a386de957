"""One live stream: the camera's frames in, the overlaid frames out, one analyser thread between.

``on_frame`` is called for every frame the camera sends (by streamlit-webrtc's worker, or by the
benchmark): it leaves the frame in the ``LatestSlot`` and returns it with the latest reading
drawn in, without waiting for the model. The analyser thread takes the newest frame, reads it
(``read_frame``), publishes the reading and adds it to the history; frames that arrived
meanwhile were replaced in the slot (dropped, counted), never queued.

A stream ends when its track ends (``close``), or by itself when no frame has come for
``idle_timeout`` seconds (a browser that vanished without saying so); either way its thread stops
and it lets go of every frame, reading and history point, so their memory is freed.
"""
from __future__ import annotations

import io
import logging
import threading
import time
from collections import deque
from collections.abc import Callable

import numpy as np
from PIL import Image

from ..models.zoo import LoadedModel
from .history import RollingHistory
from .overlay import draw_overlay
from .reading import LiveReading, read_frame
from .slot import LatestSlot

log = logging.getLogger(__name__)

#: Frames per second are counted over this many seconds.
FPS_WINDOW = 2.0


class LiveStream:
    """One camera stream analysed by ``loaded`` (a shared, read-only model)."""

    def __init__(self, loaded: LoadedModel, gate: str, history_seconds: float = 10.0, idle_timeout: float = 30.0,
                 clock: Callable[[], float] = time.monotonic,
                 on_close: Callable[[LiveStream], None] | None = None) -> None:
        loaded.gate(gate)  # a KeyError now, not in the thread
        self.loaded = loaded
        self._gate = gate
        self.idle_timeout = float(idle_timeout)
        self.clock = clock
        self.slot: LatestSlot[tuple[np.ndarray, float, int]] = LatestSlot()
        self.history = RollingHistory(history_seconds)
        self.error: str | None = None       # why the analysis stopped, if it failed
        self.end_reason: str | None = None  # "closed" | "idle" | "error"
        self.received = 0                   # frames the camera sent
        self.analysed = 0                   # frames read by the model
        self.latencies: deque[float] = deque(maxlen=256)  # capture -> first drawn, seconds
        self._latest: LiveReading | None = None
        self._latest_frame: np.ndarray | None = None
        self._drawn_index = -1
        self._analysed_at: deque[float] = deque()
        self._lock = threading.Lock()
        self._on_close = on_close
        self.ended = threading.Event()
        self._thread = threading.Thread(target=self._run, name="attnviz-live", daemon=True)

    # ------------------------------------------------------------ the camera's side

    def start(self) -> LiveStream:
        self._thread.start()
        return self

    def on_frame(self, frame: np.ndarray) -> np.ndarray:
        """Offer ``frame`` (H, W, 3 uint8 RGB) to the analyser and return it with the latest
        reading drawn in. Never waits for the model."""
        now = self.clock()
        with self._lock:
            index = self.received
            self.received += 1
            reading = self._latest
        self.slot.put((frame, now, index))
        out = draw_overlay(frame, reading, self.fps())
        if reading is not None:
            with self._lock:
                if reading.index > self._drawn_index:   # its values reach the picture now
                    self._drawn_index = reading.index
                    self.latencies.append(self.clock() - reading.captured_at)
        return out

    # ------------------------------------------------------------ what the page reads

    @property
    def gate(self) -> str:
        return self._gate

    def set_gate(self, gate: str) -> None:
        """The gate the next readings show (the page's picker)."""
        self.loaded.gate(gate)
        self._gate = gate

    @property
    def latest(self) -> LiveReading | None:
        with self._lock:
            return self._latest

    def latest_frame_png(self) -> bytes | None:
        """The frame of the latest reading as PNG bytes (what "freeze" takes to Explore)."""
        with self._lock:
            frame = self._latest_frame
        if frame is None:
            return None
        buffer = io.BytesIO()
        Image.fromarray(frame, "RGB").save(buffer, format="PNG")
        return buffer.getvalue()

    def fps(self) -> float | None:
        """Frames analysed per second over the last ``FPS_WINDOW`` seconds (None before two)."""
        with self._lock:
            times = list(self._analysed_at)
        if len(times) < 2 or times[-1] <= times[0]:
            return None
        return (len(times) - 1) / (times[-1] - times[0])

    @property
    def dropped(self) -> int:
        return self.slot.dropped

    @property
    def closed(self) -> bool:
        return self.ended.is_set()

    # ------------------------------------------------------------ the analyser

    def _run(self) -> None:
        reason = "closed"
        try:
            while not self.slot.closed:
                item = self.slot.take(timeout=self.idle_timeout)
                if item is None:
                    if not self.slot.closed:
                        reason = "idle"  # no frame for idle_timeout seconds: the browser is gone
                    break
                frame, captured_at, index = item
                del item
                reading = read_frame(self.loaded, frame, self._gate, index, captured_at)
                done = self.clock()
                reading = LiveReading(**{**reading.__dict__, "analysed_at": done})
                with self._lock:
                    self._latest, self._latest_frame = reading, frame
                    self.analysed += 1
                    self._analysed_at.append(done)
                    while self._analysed_at and self._analysed_at[0] < done - FPS_WINDOW:
                        self._analysed_at.popleft()
                self.history.add(done, reading.series())
                del frame, reading
        except Exception as exc:  # shown on the page as a message; the stream ends
            log.exception("live analysis failed")
            self.error = str(exc) or type(exc).__name__
            reason = "error"
        self._finish(reason)

    def close(self) -> None:
        """End the stream (its track ended, or the page left): the thread stops after the frame
        it is reading, and everything is let go."""
        self.slot.close()
        if threading.current_thread() is not self._thread and self._thread.is_alive():
            self._thread.join(timeout=self.idle_timeout + 60)
        self._finish("closed")

    def _finish(self, reason: str) -> None:
        with self._lock:
            if self.ended.is_set():
                return
            self.end_reason = reason
            self._latest = self._latest_frame = None
        self.slot.close()
        self.history.clear()
        self.ended.set()
        if self._on_close is not None:
            self._on_close(self)
