"""Charts that never collide, read in a real browser: on every page, in English, Chinese and
Japanese, with both bundled models, at a projector's 1280×720 and at 1920×1080, with one and with
three photos, the bounding boxes of every plotly title, axis title, legend and annotation text are
read from the drawn SVG, and any two that overlap, or any that leaves its figure, fail the test.

One server for the whole module (the shipped models); one browser page per language and model,
walking the pages at both sizes. ATTNVIZ_LAYOUT_SHOTS names a folder to keep a screenshot of each
page (the README's docs/screenshots come from the SE model's run)."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from browser_kit import CHROMIUM_ARGS, PAGES, chromium_path, run_server

pytestmark = pytest.mark.browser

SIZES = [(1280, 720), (1920, 1080)]
#: The sample photos chosen for the three-photo walk (two the models know, one they do not).
THREE = ["n01440764_tench.JPEG", "n03028079_church.JPEG", "n01443537_goldfish.JPEG"]

#: Every text box of every chart: the main title, axis titles (x2title, ytitle …), the legend
#: and annotation texts (subplot titles, labels); [chart title, kind, text, left, top, right, bottom].
BOXES = """() => [...document.querySelectorAll('.js-plotly-plot')].map((gd) => {
    const svg = gd.querySelector('.main-svg'); if (!svg) return null;
    const fig = svg.getBoundingClientRect();
    const title = ((gd.layout || {}).title || {}).text || '';
    const boxes = [];
    const add = (kind, el) => {
        const r = el.getBoundingClientRect();
        if (r.width < 1 || r.height < 1) return;
        boxes.push([kind, (el.textContent || '').slice(0, 60), r.left, r.top, r.right, r.bottom]);
    };
    gd.querySelectorAll('.infolayer .gtitle').forEach((el) => add('title', el));
    gd.querySelectorAll('.infolayer [class$="title"]').forEach((el) => {
        if (/^[xy]\\d*title$/.test(el.getAttribute('class') || '')) add('axis title', el);
    });
    // every legend: 'legend', and 'legend2' … of a figure that gives each panel its own
    gd.querySelectorAll('.infolayer > g[class^="legend"] > rect.bg').forEach((el) => add('legend', el));
    gd.querySelectorAll('.annotation .annotation-text').forEach((el) => add('annotation', el));
    // each subplot's plot area: an axis title must stay out of every one (a small multiple's y
    // title reaching into its left neighbour's data)
    gd.querySelectorAll('.draglayer rect.nsewdrag').forEach((el) => add('plot area', el));
    return {title, fig: [fig.left, fig.top, fig.right, fig.bottom], boxes};
}).filter(Boolean)"""


def collisions(charts: list[dict], slack: float = 1.0) -> list[str]:
    """Pairs of text boxes that overlap by more than ``slack`` pixels each way, axis titles inside a
    plot area (its own or a neighbouring panel's), and boxes that leave their figure, per chart.
    Plot areas may hold the other texts (labels drawn on the data) and touch one another."""
    problems = []
    for chart in charts:
        fl, ft, fr, fb = chart["fig"]
        boxes = chart["boxes"]
        for kind, text, left, top, right, bottom in boxes:
            if left < fl - slack or top < ft - slack or right > fr + slack or bottom > fb + slack:
                problems.append(f"{chart['title'][:50]!r}: {kind} {text!r} leaves the figure")
        for i, (k1, t1, l1, u1, r1, b1) in enumerate(boxes):
            for k2, t2, l2, u2, r2, b2 in boxes[i + 1:]:
                if "plot area" in (k1, k2) and {k1, k2} != {"plot area", "axis title"}:
                    continue
                if min(r1, r2) - max(l1, l2) > slack and min(b1, b2) - max(u1, u2) > slack:
                    problems.append(f"{chart['title'][:50]!r}: {k1} {t1!r} overlaps {k2} {t2!r}")
    return problems


def test_collisions_are_found():
    """The check itself, on boxes measured by hand: side by side is fine, one pixel of touching is
    fine, a real overlap and a box past the figure's edge are not."""
    chart = {"title": "t", "fig": [0, 0, 100, 100],
             "boxes": [["title", "a", 0, 0, 50, 10], ["legend", "b", 50, 0, 90, 10],
                       ["axis title", "c", 10, 5, 30, 20], ["annotation", "d", 90, 90, 120, 95],
                       ["plot area", "", 40, 30, 100, 80], ["plot area", "", 0, 30, 38, 80],
                       ["axis title", "e", 36, 40, 44, 60], ["annotation", "f", 50, 40, 60, 50]]}
    found = collisions([chart])
    # 'e' reaches into both panels
    assert found.count("'t': plot area '' overlaps axis title 'e'") == 2
    assert not [p for p in found if "'f'" in p]                      # a label on the data is fine
    assert "'t': title 'a' overlaps axis title 'c'" in found
    assert "'t': annotation 'd' leaves the figure" in found
    assert not [p for p in found if "'a' overlaps legend" in p or "legend 'b' overlaps" in p]


@pytest.fixture(scope="module")
def layout_server(tmp_path_factory, samples_dir):
    env = {k: v for k, v in os.environ.items() if k != "ATTNVIZ_ASSETS"}
    yield from run_server(tmp_path_factory.mktemp("layout"), {"ATTNVIZ_SAMPLES": str(samples_dir)}, env)


def settle(page) -> None:
    page.wait_for_timeout(1500)
    page.get_by_test_id("stStatusWidget").wait_for(state="detached", timeout=240_000)
    page.wait_for_timeout(1500)


#: ATTNVIZ_LAYOUT_PAGES=learn,explore walks only those pages (while working on one page).
ONLY_PAGES = [p for p in os.environ.get("ATTNVIZ_LAYOUT_PAGES", "").split(",") if p]


def walk(page, tag: str, shots: Path | None) -> list[str]:
    """Every page through the sidebar's links (the session, its photos and language, stay)."""
    problems = []
    for name, __ in PAGES:
        if ONLY_PAGES and name not in ONLY_PAGES:
            continue
        page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
        links = page.locator('[data-testid="stSidebarNav"] a')
        # The home page is the default one: its link is the bare address, the first of the list.
        (links.first if name == "home" else page.locator(f'[data-testid="stSidebarNav"] a[href*="/{name}"]').first).click()
        settle(page)
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(1200)  # plotly redraws for the new width
            problems += [f"{tag} {name} {width}×{height}: {p}" for p in collisions(page.evaluate(BOXES))]
            if shots is not None and (width, height) == SIZES[0]:
                page.set_viewport_size({"width": width, "height": 3000})
                page.wait_for_timeout(1200)
                page.screenshot(path=str(shots / f"{tag}_{name}.png"), full_page=True)
    return problems


#: Each (language, model) walk takes about two minutes on a 2-core machine, so the suite walks the
#: two that carry CJK text, one per model (CI's 20-minute budget); ATTNVIZ_LAYOUT_FULL=1 walks all
#: six: `ATTNVIZ_LAYOUT_FULL=1 python -m pytest tests/app/test_browser_layout.py`.
COMBINATIONS = [(lang, model) for lang in ("en", "zh", "ja")
                for model in ("se_resnet18_imagenette", "sk_resnet18_imagenette")]
if not os.environ.get("ATTNVIZ_LAYOUT_FULL"):
    COMBINATIONS = [("ja", "se_resnet18_imagenette"), ("zh", "sk_resnet18_imagenette")]


@pytest.mark.slow
@pytest.mark.parametrize(("lang", "model"), COMBINATIONS)
def test_no_chart_text_collides_on_any_page(layout_server, samples_dir, lang, model):  # noqa: ARG001  fixture: skips without the samples
    chromium = chromium_path()
    from playwright.sync_api import sync_playwright

    from attnviz.models.zoo import bundled_models

    if model not in bundled_models():
        pytest.skip("the bundled models are not in assets/")
    shots = Path(os.environ["ATTNVIZ_LAYOUT_SHOTS"]) if os.environ.get("ATTNVIZ_LAYOUT_SHOTS") else None
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            query = f"?lang={lang}&model={model}"
            # One photo: the live example Explore opens on (it stays chosen for the other pages).
            page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
            page.goto(f"{layout_server.url}/explore{query}", wait_until="domcontentloaded")
            page.locator(".js-plotly-plot").first.wait_for(state="visible", timeout=240_000)
            problems = walk(page, f"{lang}_{model}_1", shots)
            # Three photos: chosen in the sidebar's picker.
            picker = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"] input')
            for name in THREE[1:]:
                label = name.split("_", 1)[1].rsplit(".", 1)[0].replace("_", " ")
                picker.click()
                picker.fill(label)
                page.get_by_role("option").filter(has_text=label).first.click(timeout=30_000)
                settle(page)
            problems += walk(page, f"{lang}_{model}_3", shots)
        finally:
            browser.close()
    print(f"\n{lang} {model}: {time.monotonic() - started:.0f} s")
    assert problems == [], "\n".join(problems)
