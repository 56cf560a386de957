"""Server memory under a class: N browser sessions upload M files each, at the same time.

Starts ``streamlit run app.py`` on localhost (default settings, the bundled or a stand-in model),
opens N headless-Chromium pages (Debian's ``chromium``, driven by Playwright), lets every page
upload its files at once and waits until each page has drawn its top-5 charts. The server's
memory is read from ``/proc/<pid>/status``: resident size before the first upload (model loaded,
one page served), the peak while the uploads are processed (VmHWM, reset before they start) and
the resident size once every page is done.

    python bench/serve_memory.py --sessions 8 --files hostile      # 12 hostile uploads per session
    python bench/serve_memory.py --sessions 8 --files photos       # 12 ImageNet sample photos each

Goal (issue "A clean machine and a classroom server"): any twelve uploads leave the server less
than 512 MiB above where it started once processed, and its peak under 1.5 GiB above it.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from attnviz.runtime.memory import peak_rss, reset_peak_rss, rss  # noqa: E402
from hostile import hostile_uploads  # noqa: E402

SAMPLES = ROOT.parent / "shared" / "data" / "imagenet-samples"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
MiB = 2**20


def start_server(port: int, assets: Path | None, log: Path) -> subprocess.Popen:
    env = {**os.environ, "ATTNVIZ_SAMPLES": str(ROOT / "no-samples")}
    if assets is not None:
        env["ATTNVIZ_ASSETS"] = str(assets)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)  # noqa: SIM115  the log lives as long as the server
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited; see {log}") from None
            time.sleep(0.5)
    proc.kill()
    raise TimeoutError("streamlit did not start")


def files_for(kind: str, count: int, session: int) -> list[dict]:
    """Each session's own files (different content), so that no session is served from another's cache."""
    if kind == "hostile":
        goldfish = SAMPLES / "n01443537_goldfish.JPEG"
        named = [(goldfish.name, goldfish.read_bytes())] + hostile_uploads(palettes=count - 6, variant=session + 1)
    else:
        photos = sorted(SAMPLES.glob("*.JPEG"))
        named = [(p.name, p.read_bytes()) for p in photos[session * count:(session + 1) * count]]
    return [{"name": n, "mimeType": "image/png" if n.endswith(".png") else "image/jpeg", "buffer": d}
            for n, d in named[:count]]


async def one_session(browser, url: str, files: list[dict], expect_charts: int, timeout_s: float) -> float:
    page = await browser.new_page(viewport={"width": 1400, "height": 1000})
    await page.goto(url, wait_until="domcontentloaded")
    uploader = page.locator('[data-testid="stSidebar"] input[type="file"]')
    await uploader.wait_for(state="attached", timeout=120_000)
    start = time.monotonic()
    await uploader.set_input_files(files)
    deadline = start + timeout_s
    while time.monotonic() < deadline:
        tops = await page.get_by_text("Top-5:").count()
        if tops >= expect_charts:
            return time.monotonic() - start
        await asyncio.sleep(1.0)
    raise TimeoutError(f"a session drew {tops} of {expect_charts} top-5 charts in {timeout_s:.0f} s")


async def run_sessions(url: str, files: list[list[dict]], expect: int, pid: int, timeout_s: float):
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=shutil.which("chromium"), headless=True,
                                          args=CHROMIUM_ARGS)
        try:
            # Warm-up: one page loads the model, so the baseline includes it (as on a running server).
            page = await browser.new_page()
            await page.goto(url, wait_until="domcontentloaded")
            await page.get_by_text("Explore a photo").first.wait_for(timeout=120_000)
            await page.close()
            await asyncio.sleep(2)
            base = rss(pid)
            reset_peak_rss(pid)
            times = await asyncio.gather(*(one_session(browser, f"{url}/explore", mine, expect, timeout_s)
                                           for mine in files))
            peak = peak_rss(pid)
            decoders = [peak_rss(child) or 0 for child in children(pid)]
            await asyncio.sleep(3)
            after = rss(pid)
        finally:
            await browser.close()
    print(f"decoder processes: {len(decoders)}, their peaks together {sum(decoders) / MiB:.0f} MiB "
          "(outside the server's own figures below)")
    return base, peak, after, times


def children(pid: int) -> list[int]:
    """The server's child processes (its image decoders, attnviz.serving.decoding), from /proc."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--files", choices=["hostile", "photos"], default="hostile")
    parser.add_argument("--count", type=int, default=12, help="files per session")
    parser.add_argument("--port", type=int, default=8599)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--assets", type=Path, default=None,
                        help="assets folder (default: the project's bundled models)")
    args = parser.parse_args()
    if shutil.which("chromium") is None:
        sys.exit("needs Debian's chromium (apt-get install chromium)")
    files = [files_for(args.files, args.count, i) for i in range(args.sessions)]
    if any(len(mine) < args.count for mine in files):
        sys.exit(f"not enough sample photos for {args.sessions} sessions x {args.count}")
    expect = sum(1 for f in files[0] if not f["name"].startswith("bomb"))
    log = Path("/tmp/attnviz-serve-memory.log")
    proc = start_server(args.port, args.assets, log)
    try:
        base, peak, after, times = asyncio.run(run_sessions(f"http://127.0.0.1:{args.port}", files, expect,
                                                            proc.pid, args.timeout))
    finally:
        proc.terminate()
        proc.wait(30)
    print(f"{args.sessions} sessions x {args.count} {args.files} uploads, different in every session "
          f"({sum(len(f['buffer']) for f in files[0]) / 1024:.0f} KB in the first session)")
    print(f"server RSS before: {base / MiB:.0f} MiB; peak: {peak / MiB:.0f} MiB (+{(peak - base) / MiB:.0f}); "
          f"after: {after / MiB:.0f} MiB (+{(after - base) / MiB:.0f})")
    print(f"upload to all top-5 charts per session: {min(times):.1f}-{max(times):.1f} s")


if __name__ == "__main__":
    main()
