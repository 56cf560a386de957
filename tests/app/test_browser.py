"""End to end in a real browser: `streamlit run app.py` on localhost, headless Chromium (Debian's
`chromium`, driven by Playwright) uploads a photo and waits for every chart of page 1; then the
hostile uploads of tests/hostile.py go through the real server, whose memory is measured."""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from bundled_kit import write_bundled
from hostile import hostile_uploads

from attnviz.runtime.memory import peak_rss, reset_peak_rss, rss
from browser_kit import ROOT, CHROMIUM_ARGS, run_server, chromium_path, open_explore, PAGES, full_page_shot


@pytest.fixture
def server(tmp_path, samples_dir):
    """The app on a free localhost port, with a bundled-format SE model; always stopped."""
    assets = tmp_path / "assets"
    write_bundled(assets, "se_resnet18_half", "test_se", default=True)
    yield from run_server(tmp_path, {"ATTNVIZ_ASSETS": str(assets), "ATTNVIZ_SAMPLES": str(samples_dir)})


@pytest.fixture
def shipped_server(tmp_path, samples_dir):
    """The app with the project's own assets (the trained bundled models and their profiles)."""
    env = {k: v for k, v in os.environ.items() if k != "ATTNVIZ_ASSETS"}
    yield from run_server(tmp_path, {"ATTNVIZ_SAMPLES": str(samples_dir)}, env)



def test_upload_shows_every_chart_of_page_one(server, goldfish, tmp_path):
    chromium = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page, uploader = open_explore(browser, server)
            start = time.monotonic()
            uploader.set_input_files(str(goldfish))
            # Top-5, heatmap, distribution and bars: four plotly charts, each drawn by plotly.js.
            charts = page.locator(".js-plotly-plot")
            expect(charts).to_have_count(4, timeout=60_000)
            # The title may wrap (<br>) at this width: read it from the figure, not the drawn text.
            page.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot')].some((gd) =>
                ((gd.layout.title || {}).text || '').replace(/<br>/g, ' ').replace(/\\s+/g, ' ')
                    .includes('Excitation of every SE block — n01443537_goldfish.JPEG'))""", timeout=30_000)
            expect(page.locator(".js-plotly-plot .heatmaplayer image, .js-plotly-plot .hm image")).not_to_have_count(0)
            elapsed = time.monotonic() - start
            assert page.get_by_text("Traceback").count() == 0
            shot = tmp_path / "page1.png"
            full_page_shot(page, shot)
        finally:
            browser.close()
    print(f"\nupload to all charts in the browser: {elapsed:.2f} s; screenshot: {shot}")
    assert shot.stat().st_size > 10_000


def test_hostile_uploads_in_a_real_browser(server, goldfish, tmp_path):
    """A photo and eleven hostile files in one drop: the photo and every image that can be
    decoded get their charts, the bomb its message, and the server stays within its memory goal."""
    chromium = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    files = [(goldfish.name, goldfish.read_bytes())] + hostile_uploads(palettes=6)
    payload = [{"name": n, "mimeType": "image/png" if n.endswith(".png") else "image/jpeg", "buffer": d}
               for n, d in files]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page, uploader = open_explore(browser, server)
            page.get_by_text("Upload photos").first.wait_for(timeout=60_000)  # model loaded
            base = rss(server.pid)
            measured = reset_peak_rss(server.pid)
            uploader.set_input_files(payload)
            expect(page.get_by_text("over the limit of 64,000,000 pixels")).to_be_visible(timeout=120_000)
            expect(page.get_by_text("Top-5:")).to_have_count(len(files) - 1, timeout=240_000)
            assert page.get_by_text("Traceback").count() == 0
            assert page.get_by_text("Something went wrong").count() == 0
            shot = tmp_path / "hostile.png"
            full_page_shot(page, shot)
        finally:
            browser.close()
    if measured and base is not None:
        peak, after = peak_rss(server.pid) - base, rss(server.pid) - base
        print(f"\nserver memory for 12 hostile uploads: peak +{peak / 2**20:.0f} MiB, "
              f"after +{after / 2**20:.0f} MiB; screenshot: {shot}")
        assert peak < 1536 * 2**20 and after < 512 * 2**20


MACHINE_PATHS = ("/work/", "/home/", "/tmp/", "/root/", str(ROOT))


def chart_problems(page) -> list[str]:
    """Charts on the page without a title, or with a visible axis that has no title."""
    return page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].flatMap((gd) => {
        const layout = gd.layout || {}; const title = (layout.title || {}).text || '';
        const problems = title ? [] : ['a chart without a title'];
        for (const [name, axis] of Object.entries(layout)) {
            if (!/^[xy]axis\\d*$/.test(name) || !axis || axis.visible === false) continue;
            const used = (gd.data || []).some((t) => (t[name[0] + 'axis'] || name[0]) === name[0] + name.slice(5));
            if (used && !((axis.title || {}).text)) problems.push(`${title}: ${name} has no title`);
        }
        return problems;
    })""")


def test_every_page_with_both_bundled_models(shipped_server, samples_dir, tmp_path):  # noqa: ARG001  fixture: skips without the samples
    """Walk every page with each shipped model and a sample photo; save full-page screenshots
    (ATTNVIZ_SCREENSHOTS names a folder to keep them); no machine path on any page, every chart
    titled with titled axes, no traceback."""
    chromium = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    from attnviz.models.zoo import bundled_models

    models = [m for m in ("se_resnet18_imagenette", "sk_resnet18_imagenette") if m in bundled_models()]
    if not models:
        pytest.skip("the bundled models are not in assets/")
    shots = Path(os.environ.get("ATTNVIZ_SCREENSHOTS", tmp_path / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            started = time.monotonic()
            page.goto(f"{shipped_server.url}/home", wait_until="domcontentloaded")
            expect(page.get_by_text("attnviz is starting").or_(page.get_by_text("See what channel attention does"))
                   .first).to_be_visible(timeout=30_000)
            first_words = time.monotonic() - started
            for model in models:
                page.set_viewport_size({"width": 1500, "height": 1100})
                page.goto(f"{shipped_server.url}/explore?model={model}", wait_until="domcontentloaded")
                # Explore opens on a live example (the first sample photo), no click needed.
                page.locator(".js-plotly-plot").first.wait_for(state="visible", timeout=120_000)
                for name, title in PAGES:
                    page.set_viewport_size({"width": 1500, "height": 1100})
                    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
                    page.wait_for_timeout(2000)
                    page.get_by_test_id("stStatusWidget").wait_for(state="detached", timeout=240_000)
                    page.wait_for_timeout(1500)
                    text = page.inner_text("body")
                    assert "Traceback" not in text and "Something went wrong" not in text, (model, name)
                    assert not [p for p in MACHINE_PATHS if p in text], (model, name, [p for p in MACHINE_PATHS if p in text])
                    assert chart_problems(page) == [], (model, name)
                    page.set_viewport_size({"width": 1500, "height": 3600})
                    page.wait_for_timeout(1500)
                    page.screenshot(path=str(shots / f"{model}_{name}.png"), full_page=True)
        finally:
            browser.close()
    print(f"\nfirst words on the page after {first_words:.2f} s; screenshots in {shots}")


#: Does a font stack draw CJK glyphs, or boxes (tofu)? A glyph is compared with a code point no
#: font has (U+10FFFD, drawn as the missing-glyph box) and with a blank.
CJK_RENDERS = """(family) => {
    const canvas = document.createElement('canvas'); canvas.width = canvas.height = 64;
    const g = canvas.getContext('2d');
    const draw = (text) => { g.clearRect(0, 0, 64, 64); g.font = `48px ${family}`; g.fillText(text, 4, 52);
                             return g.getImageData(0, 0, 64, 64).data.join(','); };
    const tofu = draw('\\u{10FFFD}'), blank = draw(' ');
    return ['励', '起', '激', '通', 'ゲ'].every((ch) => { const d = draw(ch); return d !== tofu && d !== blank; });
}"""


@pytest.mark.parametrize("lang", ["en", "zh", "ja"])
def test_each_language_in_the_browser(shipped_server, samples_dir, lang, tmp_path):
    """Explore and Learn in each language from a shared link (?lang=) with the shipped SE model: the
    page's heading and the charts' titles in that language, CJK drawn with real glyphs in the charts'
    font (so also in the PNG and SVG the camera button saves), and screenshots per language (the
    README's)."""
    chromium = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    from attnviz.i18n import _, language
    from attnviz.models.zoo import bundled_models

    if "se_resnet18_imagenette" not in bundled_models():
        pytest.skip("the bundled SE model is not in assets/")
    with language(lang):
        heading, title = _("Explore a photo"), _("Excitation per block, over its channels")
        learn, learn_heading = _("Learn step by step"), _("Learn: what the attention gates compute")
    shots = Path(os.environ.get("ATTNVIZ_SCREENSHOTS", tmp_path / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="en-US")
            page.goto(f"{shipped_server.url}/explore?model=se_resnet18_imagenette&lang={lang}",
                      wait_until="domcontentloaded")
            uploader = page.locator('[data-testid="stSidebar"] input[type="file"]')
            uploader.wait_for(state="attached", timeout=60_000)
            expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=60_000)
            uploader.set_input_files(str(samples_dir / "n01440764_tench.JPEG"))
            expect(page.locator(".js-plotly-plot").nth(3)).to_be_visible(timeout=90_000)  # top-5 ... the block
            expect(page.get_by_text(title).first).to_be_visible(timeout=30_000)
            family = page.evaluate("() => document.querySelector('.js-plotly-plot')._fullLayout.font.family")
            assert page.evaluate(CJK_RENDERS, family), family
            assert page.get_by_text("Traceback").count() == 0
            page.wait_for_timeout(1500)
            page.screenshot(path=str(shots / f"language_{lang}.png"))
            page.locator('[data-testid="stSidebarNav"]').get_by_text(learn, exact=True).click()
            expect(page.get_by_role("heading", name=learn_heading)).to_be_visible(timeout=60_000)
            page.wait_for_timeout(2000)
            page.get_by_test_id("stStatusWidget").wait_for(state="detached", timeout=120_000)
            assert page.get_by_text("Traceback").count() == 0
            page.set_viewport_size({"width": 1400, "height": 3200})
            page.wait_for_timeout(1500)
            page.screenshot(path=str(shots / f"language_{lang}_learn.png"), full_page=True)
        finally:
            browser.close()


def test_the_report_draws_every_chart_offline(photos, tmp_path):
    """The report file in a browser with every network request refused: plotly.js unpacks from the
    file itself and every chart is drawn, in Japanese with real CJK glyphs."""
    chromium = chromium_path()
    from playwright.sync_api import expect, sync_playwright
    from tiny import tiny

    from attnviz.i18n import language
    from attnviz.analysis.inference import analyse_images
    from attnviz.views.report import explore_report

    loaded = tiny("se_resnet18_half", size=64)
    analyses = analyse_images(loaded, [p.image for p in photos], [p.name for p in photos])
    with language("ja"):
        page_html = explore_report(loaded, [(p.name, p.display, a, None) for p, a in zip(photos, analyses, strict=True)])
    report = tmp_path / "report.html"
    report.write_text(page_html, encoding="utf-8")
    sections = page_html.count("<section>")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            requests = []
            page.route("http*://**", lambda route: (requests.append(route.request.url), route.abort()))
            page.goto(report.as_uri())
            expect(page.locator(".js-plotly-plot")).to_have_count(sections, timeout=30_000)
            expect(page.locator("#attnviz-status")).to_have_count(0)
            assert page.evaluate("() => document.querySelector('.js-plotly-plot').data.length") >= 1
            assert page.evaluate(CJK_RENDERS, page.evaluate("() => getComputedStyle(document.body).fontFamily"))
            assert requests == []
        finally:
            browser.close()


def test_the_browsers_language_is_the_default(server):
    """No ?lang= in the link: the browser's Accept-Language (here Japanese) decides, and the address
    then holds ?lang=ja, so that the link can be shared as it is."""
    chromium = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    from attnviz.i18n import _, language

    with language("ja"):
        heading = _("See what channel attention does")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="ja-JP")
            page.goto(f"{server.url}/home", wait_until="domcontentloaded")
            expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=90_000)
            expect(page).to_have_url(re.compile(r"[?&]lang=ja"), timeout=30_000)
        finally:
            browser.close()
