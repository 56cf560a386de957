"""Driving Debian's chromium against a real `streamlit run app.py` (Playwright): the server, the browser's flags, the pages and opening Explore; shared by the browser tests (tests/app/test_browser*.py)."""
from __future__ import annotations
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
import pytest


ROOT = Path(__file__).resolve().parents[1]  # tests/browser_kit.py -> the checkout


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


@dataclass
class Server:
    url: str
    pid: int


def run_server(tmp_path, extra: dict, base: dict | None = None):
    port = free_port()
    env = {**(base if base is not None else os.environ), **extra}
    log = open(tmp_path / "streamlit.log", "w")  # noqa: SIM115  the server process writes it for its whole life
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port),
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield Server(url, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def chromium_path() -> str:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run does it)")
    return chromium


def open_explore(browser, server: Server):
    """A page on Explore and its image uploader, once the uploader is there."""
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.goto(f"{server.url}/explore", wait_until="domcontentloaded")
    uploader = page.locator('[data-testid="stSidebar"] input[type="file"]')
    uploader.wait_for(state="attached", timeout=60_000)
    # Explore opens on a live example (a sample photo); empty the picker as a visitor would
    # (Backspace removes the last chosen photo), so that the page holds only what the test uploads.
    page.locator(".js-plotly-plot").first.wait_for(state="visible", timeout=240_000)
    picker = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"] input')
    picker.click()
    picker.press("Backspace")
    picker.press("Escape")
    page.get_by_text("Upload photos").first.wait_for(timeout=120_000)  # the hint of an empty page
    return page, uploader


PAGES = [("home", "Start here"), ("learn", "Learn step by step"), ("explore", "Explore a photo"),
         ("compare", "Compare classes"), ("scale", "Scale experiment (from SKNet)"), ("attribution", "Attribution"),
         ("models", "Compare models")]


def full_page_shot(page, path) -> None:
    """A screenshot of the whole page: Streamlit scrolls inside its own container, so the viewport
    is made tall first (and plotly given time to redraw for it)."""
    page.set_viewport_size({"width": 1500, "height": 3000})
    page.wait_for_timeout(1500)
    page.screenshot(path=str(path), full_page=True)
