"""End to end in a real browser: `streamlit run app.py` on localhost, headless Chromium (Debian's
`chromium`, driven by Playwright) uploads a photo and waits for every chart of page 1."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bundled_kit import write_bundled

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"streamlit did not answer at {url} within {timeout} s")


@pytest.fixture
def server(tmp_path, samples_dir):
    """The app on a free localhost port, with a bundled-format SE model; always stopped."""
    assets = tmp_path / "assets"
    write_bundled(assets, "se_resnet18_half", "test_se", default=True)
    port = free_port()
    env = {**os.environ, "ATTNVIZ_ASSETS": str(assets), "ATTNVIZ_SAMPLES": str(samples_dir)}
    log = open(tmp_path / "streamlit.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port),
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_upload_shows_every_chart_of_page_one(server, goldfish, tmp_path):
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run does it)")
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.goto(server, wait_until="domcontentloaded")
            uploader = page.locator('[data-testid="stSidebar"] input[type="file"]')
            uploader.wait_for(state="attached", timeout=60_000)
            start = time.monotonic()
            uploader.set_input_files(str(goldfish))
            # Top-5, heatmap, distribution and bars: four plotly charts, each drawn by plotly.js.
            charts = page.locator(".js-plotly-plot")
            expect(charts).to_have_count(4, timeout=60_000)
            expect(page.get_by_text("Excitation of every SE block — n01443537_goldfish.JPEG")).to_be_visible(timeout=30_000)
            expect(page.locator(".js-plotly-plot .heatmaplayer image, .js-plotly-plot .hm image")).not_to_have_count(0)
            elapsed = time.monotonic() - start
            assert page.get_by_text("Traceback").count() == 0
            # Streamlit scrolls inside its own container: a tall viewport shows the whole page.
            page.set_viewport_size({"width": 1500, "height": 3000})
            page.wait_for_timeout(1500)
            shot = tmp_path / "page1.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    print(f"\nupload to all charts in the browser: {elapsed:.2f} s; screenshot: {shot}")
    assert shot.stat().st_size > 10_000
