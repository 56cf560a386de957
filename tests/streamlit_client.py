"""A scripted Streamlit visitor: the app's own protocol, no browser and none of its checks.

It speaks what Streamlit's frontend speaks to ``streamlit run``: the websocket ``/_stcore/stream``
carrying ``BackMsg``/``ForwardMsg`` protobufs (``streamlit.proto``), and the upload endpoint
``/_stcore/upload_file/<session>/<file>`` (multipart PUT with the XSRF cookie and header). So a
benchmark can run many sessions from one process, and a test can send what a browser would refuse
to send (files over the uploader's size cap, any number of them).

    client = await Visitor.open("http://127.0.0.1:8501", page="explore")
    await client.run_finished()                       # the first run of the page
    await client.upload("uploads", [("a.jpg", data)])  # upload, set the widget, rerun
    run = await client.run_finished()
    run.chart_titles()                                # the titles of the charts that run sent
"""
from __future__ import annotations

import asyncio
import itertools
import json
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlparse

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.Common_pb2 import FileURLsRequest, UploadedFileInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates
from websockets.asyncio.client import connect

XSRF_COOKIE = "_streamlit_xsrf"
TEXT_ELEMENTS = ("markdown", "alert", "heading", "text", "code")


@dataclass
class Run:
    """What one script run sent: its elements in order, with the time each arrived."""

    started: float
    elements: list[tuple[float, str, object]] = field(default_factory=list)  # (time, kind, proto)
    finished: float | None = None
    status: int | None = None

    def of(self, kind: str) -> list:
        return [proto for _t, k, proto in self.elements if k == kind]

    def chart_titles(self) -> list[str]:
        titles = []
        for chart in self.of("plotly_chart"):
            title = json.loads(chart.spec).get("layout", {}).get("title", {})
            titles.append(title.get("text", "") if isinstance(title, dict) else str(title))
        return titles

    def last(self, kind: str) -> float | None:
        """When the run's last element of this kind arrived (None: it sent none)."""
        times = [t for t, k, _proto in self.elements if k == kind]
        return times[-1] if times else None

    def first_text(self) -> float | None:
        """When the first words arrived (a markdown, alert, heading, text or code element)."""
        return next((t for t, k, proto in self.elements if k in TEXT_ELEMENTS and _has_text(k, proto)), None)

    def texts(self) -> str:
        return "\n".join(getattr(p, "body", "") for _t, k, p in self.elements if k in TEXT_ELEMENTS)


def _has_text(kind: str, proto) -> bool:
    return bool(getattr(proto, "body", None)) or kind == "heading"


class Visitor:
    """One session of a running ``streamlit run``, driven by a script."""

    def __init__(self, base: str, ws, xsrf: str, page: str, query: str) -> None:
        self.base = base.rstrip("/")
        self._ws = ws
        self._xsrf = xsrf
        self.page = page
        self.query = query
        self.session_id: str | None = None
        self.widgets: dict[str, str] = {}          # user key -> widget id, from the elements seen
        self._states: dict[str, WidgetState] = {}  # widget id -> the value this visitor set
        self._runs: asyncio.Queue[Run] = asyncio.Queue()
        self._run: Run | None = None
        self._responses: dict[str, asyncio.Future] = {}
        self._ids = itertools.count(1)
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, base: str, page: str = "", query: str = "lang=en") -> Visitor:
        """Connect (the health check gives the XSRF cookie a browser would get) and ask for the
        first run of ``page`` (a URL path such as 'explore'; '' is the default page)."""
        xsrf = await asyncio.to_thread(_xsrf_cookie, base)
        host = urlparse(base).netloc
        ws = await connect(f"ws://{host}/_stcore/stream", subprotocols=["streamlit", xsrf],
                           additional_headers={"Cookie": f"{XSRF_COOKIE}={xsrf}"},
                           max_size=None, open_timeout=120, ping_interval=None)
        visitor = cls(base, ws, xsrf, page, query)
        visitor.started = time.monotonic()
        await visitor.rerun()
        return visitor

    async def close(self) -> None:
        await self._ws.close()
        self._reader.cancel()

    # ------------------------------------------------------------------ runs

    async def rerun(self) -> None:
        """Ask for a run with the widget values set so far (as the browser does on a change)."""
        self._run = Run(time.monotonic())
        state = ClientState(query_string=self.query, page_name=self.page,
                            widget_states=WidgetStates(widgets=list(self._states.values())))
        await self._ws.send(BackMsg(rerun_script=state).SerializeToString())

    async def run_finished(self, timeout: float = 600) -> Run:
        """The next run that ends (a run cut short by a rerun is skipped)."""
        while True:
            run = await asyncio.wait_for(self._runs.get(), timeout)
            if run.status != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                return run

    async def _read(self) -> None:
        async for frame in self._ws:
            msg = ForwardMsg()
            msg.ParseFromString(frame)
            now = time.monotonic()
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                self.session_id = msg.new_session.initialize.session_id
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                name = element.WhichOneof("type")
                proto = getattr(element, name) if name else None
                widget_id = getattr(proto, "id", "")
                if widget_id:
                    self.widgets[widget_id.rsplit("-", 1)[-1]] = widget_id
                if self._run is not None:
                    self._run.elements.append((now, name, proto))
            elif kind == "script_finished":
                if self._run is not None:
                    self._run.finished, self._run.status = now, msg.script_finished
                    await self._runs.put(self._run)
                    self._run = Run(now)  # a fragment or a rerun the app asks for may follow
            elif kind == "file_urls_response":
                future = self._responses.pop(msg.file_urls_response.response_id, None)
                if future is not None and not future.done():
                    future.set_result(msg.file_urls_response)

    # ------------------------------------------------------------------ uploads

    async def upload(self, key: str, files: list[tuple[str, bytes]]) -> list[int]:
        """Upload ``files`` (name, bytes) to the file uploader with user key ``key`` as the
        frontend does (ask for URLs, PUT each file), set the widget's value and rerun. Returns
        each PUT's HTTP status (204: stored; the server's own per-file cap answers 413)."""
        widget = self.widgets[key]
        request_id = str(next(self._ids))
        future = self._responses[request_id] = asyncio.get_running_loop().create_future()
        request = FileURLsRequest(request_id=request_id, file_names=[n for n, _d in files],
                                  session_id=self.session_id)
        await self._ws.send(BackMsg(file_urls_request=request).SerializeToString())
        response = await asyncio.wait_for(future, 60)
        statuses = await asyncio.gather(*(asyncio.to_thread(self._put, urls.upload_url, name, data)
                                          for urls, (name, data) in zip(response.file_urls, files, strict=True)))
        infos = [UploadedFileInfo(name=name, size=len(data), file_id=urls.file_id, file_urls=urls)
                 for urls, (name, data), status in zip(response.file_urls, files, statuses, strict=True) if status < 300]
        state = WidgetState(id=widget)
        state.file_uploader_state_value.uploaded_file_info.extend(infos)
        self._states[widget] = state
        await self.rerun()
        return list(statuses)

    def _put(self, url: str, name: str, data: bytes) -> int:
        boundary = uuid.uuid4().hex
        body = b"".join([f"--{boundary}\r\n".encode(),
                         f'Content-Disposition: form-data; name="file"; filename="{name}"\r\n'.encode(),
                         b"Content-Type: application/octet-stream\r\n\r\n", data,
                         f"\r\n--{boundary}--\r\n".encode()])
        target = url if url.startswith("http") else self.base + url
        request = urllib.request.Request(target, data=body, method="PUT", headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}", "X-Xsrftoken": self._xsrf,
            "Cookie": f"{XSRF_COOKIE}={self._xsrf}"})
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:
                return answer.status
        except urllib.error.HTTPError as exc:
            return exc.code


def _xsrf_cookie(base: str) -> str:
    with urllib.request.urlopen(f"{base.rstrip('/')}/_stcore/health", timeout=60) as answer:
        cookies = SimpleCookie()
        for header in answer.headers.get_all("Set-Cookie") or []:
            cookies.load(header)
    if XSRF_COOKIE not in cookies:
        raise RuntimeError("the server set no XSRF cookie")
    return cookies[XSRF_COOKIE].value


def free_port() -> int:
    """A free TCP port on the loopback address."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(app: str, env: dict[str, str], log_path: str, port: int | None = None,
              options: tuple[str, ...] = (), timeout: float = 180, probe: str | None = None):
    """``streamlit run app`` on 127.0.0.1 only, once it answers its health check: (process, base URL).
    ``probe``: run it through ``streamlit_probe.py``, which answers SIGUSR1 in that file."""
    import os
    import subprocess
    import sys

    port = port or free_port()
    log = open(log_path, "w")  # noqa: SIM115  the server process writes it for its whole life
    command = ([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "streamlit_probe.py"), probe]
               if probe else [sys.executable, "-m", "streamlit"])
    proc = subprocess.Popen(
        [*command, "run", app, "--server.headless", "true", "--server.address",
         "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false", *options],
        cwd=os.path.dirname(os.path.abspath(app)), env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2):
                return proc, base
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited; see {log_path}") from None
            time.sleep(0.3)
    proc.kill()
    raise TimeoutError(f"streamlit did not answer in {timeout:.0f} s; see {log_path}")
