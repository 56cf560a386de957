"""Hostile file names in a real browser: Markdown images and links, raw HTML and LaTeX in the names
of uploaded photos make the browser fetch nothing, and show as the characters they are.

A local HTTP server on a free port records every request it gets; the names point at it. Once the
page has drawn every chart, the page itself fetches a control address of that server: the control
request arriving (an event, not a pause) shows that the recorder works and that the page had its
chance to fetch the names' addresses before it; nothing else may have arrived."""
from __future__ import annotations

import http.server
import io
import threading

import pytest
from PIL import Image

from bundled_kit import write_bundled
from browser_kit import CHROMIUM_ARGS, chromium_path, free_port, open_explore, run_server

pytestmark = pytest.mark.browser


class Recorder(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        self.paths: list[str] = []
        self.control = threading.Event()
        super().__init__(("127.0.0.1", free_port()), _Handler)


class _Handler(http.server.BaseHTTPRequestHandler):
    def _record(self) -> None:
        self.server.paths.append(self.path)
        if self.path.startswith("/control"):
            self.server.control.set()
        self.send_response(404)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()

    do_GET = do_HEAD = do_POST = do_OPTIONS = _record

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def recorder():
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def server(tmp_path, samples_dir):
    assets = tmp_path / "assets"
    write_bundled(assets, "se_resnet18_half", "test_se", default=True)
    yield from run_server(tmp_path, {"ATTNVIZ_ASSETS": str(assets), "ATTNVIZ_SAMPLES": str(samples_dir)})


def _jpeg(colour) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (96, 96), colour).save(buf, "JPEG")
    return buf.getvalue()


def test_hostile_file_names_fetch_nothing_and_show_as_text(server, recorder, tmp_path):
    chromium = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    port = recorder.server_address[1]
    at = f"http://127.0.0.1:{port}"
    names = [f"![t]({at}/x.png).jpg", f"[x]({at}/y).jpg", f"<img src={at}/z>.jpg",
             f"$\\href{{{at}/w}}{{x}}$.jpg"]
    payload = [{"name": n, "mimeType": "image/jpeg", "buffer": _jpeg((50 * i, 120, 200 - 40 * i))}
               for i, n in enumerate(names)]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page, uploader = open_explore(browser, server)
            uploader.set_input_files(payload)
            expect(page.get_by_text("Top-5:")).to_have_count(len(names), timeout=240_000)
            titles = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot .gtitle')]
                .map((t) => t.textContent)""")
            body = page.locator("body").inner_text()
            page.evaluate(f"() => fetch('{at}/control').catch(() => null)")
            assert recorder.control.wait(60), "the page's control request never reached the recorder"
            links = page.evaluate(f"""() => [...document.querySelectorAll('a')]
                .map((e) => e.href || '').filter((u) => u.includes(':{port}'))""")
            tags = page.evaluate(f"""() => [...document.querySelectorAll('img, iframe, link, source, video, audio')]
                .map((e) => e.src || e.href || '').filter((u) => u.includes(':{port}'))""")
            assert page.get_by_text("Traceback").count() == 0
            where = page.evaluate("""() => [...document.querySelectorAll('*')].filter((e) =>
                (e.tagName === 'IMG' || e.tagName === 'A') && [...e.attributes].some((a) => a.value.includes('/x.png')))
                .map((e) => (e.closest('[data-testid]') || e).outerHTML.slice(0, 700))""")
            page.screenshot(path=str(tmp_path / "hostile_names.png"), full_page=True)
        finally:
            browser.close()
    assert recorder.paths == ["/control"], f"the browser fetched what a name pointed at: {recorder.paths}; {where}"
    assert tags == [], f"elements that would fetch the names' addresses: {tags}"
    assert links == [], f"names' addresses made into links: {links}"
    flat = " ".join(body.replace("\u2060", "").split())  # the word joiners that stop bare links draw nothing
    joined = "".join("".join(titles).split())  # a wrapped title's lines join without a space
    for name in names:
        assert name in flat, f"{name!r} is not shown as text in the page"
        assert "Top-5:" + "".join(name.split()) in joined, f"{name!r} is not in a chart title as text: {titles}"
