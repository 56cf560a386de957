"""The server's memory per session: uploads admitted on the first read, refused bytes let go at once,
and everything a session held given back once its visitor has gone.

Streamlit keeps a closed session (its state and its uploaded files) for ``server.
disconnectedSessionTTL`` seconds in case the browser reconnects, and forgets it only lazily: its
uploaded files stay in the upload manager until some later connection happens to look (measured:
+972 MiB still held 60 s after hostile sessions closed). ``SessionJanitor`` closes sessions whose
visitor has been gone ``ATTNVIZ_SESSION_GRACE_S`` seconds (default 30: a reload or a dropped Wi-Fi
link reconnects well within that) through the runtime's own ``close_session``, drops any upload a
forgotten session left, and hands the freed memory back to the system.

When a visitor leaves, the work done for them stops at once: ``watch_session`` gives each session a
session-scoped resource that Streamlit releases when the session disconnects, and its release
cancels the session's pending and running decodes (``DecoderPool.cancel``: a running decode's
worker process is killed).
"""
from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from dataclasses import dataclass
from collections.abc import Callable, Sequence

import streamlit as st
from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ..runtime.memory import return_freed_memory
from ..serving.decoding import decoder_pool
from ..serving.inputs import ImageInput
from ..serving.limits import ServerLimits
from ..serving.uploads import Admission, Upload, admit

log = logging.getLogger("attnviz.app")
KEPT = "_admitted_uploads"
REFUSED = "_refused_uploads"


def admitted_uploads(uploads: Sequence[Upload], limits: ServerLimits) -> Admission:
    """This session's uploads checked on the server (``serving.uploads.admit``); the bytes of the
    refused ones are removed from Streamlit's upload manager now, not when the session ends."""
    ctx = get_script_run_ctx()
    if ctx is not None:
        watch_session()
    # Kept by the janitor, not in st.session_state: it lets go of them when it closes the session
    # (measured: a session closed with its uploads still listed kept them otherwise).
    kept = janitor().kept(ctx.session_id) if ctx is not None else st.session_state.setdefault(KEPT, {})
    admission = admit(uploads, limits, kept)
    # The refused files' bytes go now, so the next run no longer lists them: their messages are
    # kept until the visitor changes the uploads.
    notes = st.session_state.setdefault(REFUSED, {"listed": frozenset(), "refused": []})
    listed = frozenset(u.file_id for u in uploads)
    if admission.refused:
        notes.update(listed=listed - set(admission.refused_ids), refused=list(admission.refused))
    elif listed != notes["listed"]:
        notes.update(listed=listed, refused=[])
    else:
        admission.refused = list(notes["refused"])
    if admission.refused_ids and ctx is not None and runtime.exists():
        manager = runtime.get_instance().uploaded_file_mgr
        for file_id in admission.refused_ids:
            manager.remove_file(ctx.session_id, file_id)  # type: ignore[attr-defined]  # the base class lacks it; every manager Streamlit starts has it (MemoryUploadedFileManager)
    # Streamlit keeps the widget's deserialized value (these UploadedFile objects, each sharing its
    # bytes) while the widget's state is unchanged; closing a refused one lets go of its bytes.
    refused = set(admission.refused_ids)
    for upload in uploads:
        if upload.file_id in refused and hasattr(upload, "close"):
            upload.close()
    if ctx is not None:
        janitor().seen(ctx.session_id)
    return admission


@dataclass(frozen=True)
class SessionWatch:
    """Held for one session in Streamlit's session-scoped resource cache (``watch_session``)."""

    session_id: str


def _script_session() -> str | None:
    """The session the calling thread runs a script for (None outside a script run)."""
    ctx = get_script_run_ctx(suppress_warning=True)
    return ctx.session_id if ctx is not None else None


def session_ended(watch: SessionWatch) -> int:
    """What happens the moment a session disconnects: its decodes are cancelled (how many)."""
    return decoder_pool().cancel(watch.session_id)


def _release(watch: SessionWatch) -> None:
    """Streamlit's on_release hook (its type returns None; the count is for tests and logs)."""
    session_ended(watch)


@st.cache_resource(scope="session", on_release=_release, show_spinner=False)
def watch_session() -> SessionWatch:
    """This session's watch; Streamlit releases it (``session_ended``) when the session disconnects
    or is closed. The decoder pool learns here whose decode each script thread asks for."""
    decoder_pool().owner_lookup = _script_session
    ctx = get_script_run_ctx()
    assert ctx is not None, "a cached resource is made inside a script run"
    return SessionWatch(ctx.session_id)


class SessionJanitor:
    """Closes the sessions whose visitor has gone, ``grace_s`` seconds after it went.

    ``sweep(now)`` does one round (the thread started by ``start`` calls it every ``period_s``);
    ``closed`` counts the sessions it closed, for tests and benchmarks."""

    def __init__(self, grace_s: float = 30.0, period_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.grace_s, self.period_s, self.clock = grace_s, period_s, clock
        self._sessions: set[str] = set()
        self._gone_since: dict[str, float] = {}
        self._kept: dict[str, dict[str, ImageInput]] = {}
        self._apps: dict[str, weakref.ref] = {}  # session id -> its AppSession, not kept alive by this
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.closed = 0

    def kept(self, session_id: str) -> dict[str, ImageInput]:
        """The session's admitted uploads by upload id (``serving.uploads.admit``), dropped on close."""
        with self._lock:
            return self._kept.setdefault(session_id, {})

    def seen(self, session_id: str) -> None:
        """Called from the session's script thread on each run: the janitor will watch it."""
        app = runtime.get_instance().get_app_session(session_id) if runtime.exists() else None
        with self._lock:
            self._sessions.add(session_id)
            if app is not None and session_id not in self._apps:
                self._apps[session_id] = weakref.ref(app)
        self.start()

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._loop, name="attnviz-session-janitor", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            time.sleep(self.period_s)  # a period, not an ordering: nothing waits on this thread
            try:
                self.sweep(self.clock())
            except Exception:  # noqa: BLE001 - the janitor must outlive one bad round
                log.exception("session janitor round failed")

    def sweep(self, now: float) -> int:
        """Close every known session gone for ``grace_s``; returns how many were closed."""
        if not runtime.exists():
            return 0
        rt = runtime.get_instance()
        manager = rt.uploaded_file_mgr
        holders = set(getattr(manager, "file_storage", {}) or {})
        with self._lock:
            candidates = self._sessions | holders
        closed = 0
        for session_id in candidates:
            if rt.is_active_session(session_id):
                self._gone_since.pop(session_id, None)
                continue
            gone = self._gone_since.setdefault(session_id, now)
            if now - gone < self.grace_s:
                continue
            rt.close_session(session_id)               # state, script runner, media files
            manager.remove_session_files(session_id)   # also when Streamlit forgot the session
            with self._lock:
                self._sessions.discard(session_id)
                self._kept.pop(session_id, None)
                app = self._apps.pop(session_id, lambda: None)()
            if app is not None:
                # Streamlit's message loop keeps the last session it flushed in a local variable
                # (Runtime._loop's active_session_info) until another session's messages go out,
                # and with it that session's widget values: the uploader's UploadedFiles, each
                # holding its file's bytes (measured: 3 x 20 MB held after the close). A closed
                # session is never run again, so its state can go.
                app.session_state.clear()
                del app
            self._gone_since.pop(session_id, None)
            closed += 1
        if closed:
            self.closed += closed
            return_freed_memory()
        return closed


def _grace_seconds() -> float:
    value = os.environ.get("ATTNVIZ_SESSION_GRACE_S", "").strip()
    try:
        return max(0.0, float(value)) if value else 30.0
    except ValueError:
        return 30.0


@st.cache_resource(show_spinner=False)
def janitor() -> SessionJanitor:
    """The server's one janitor (ATTNVIZ_SESSION_GRACE_S, default 30 s)."""
    grace = _grace_seconds()
    return SessionJanitor(grace_s=grace, period_s=min(5.0, max(0.5, grace / 2)))
