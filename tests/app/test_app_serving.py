"""The app as a classroom server (AppTest, in this process): hostile uploads cost bounded memory
and never take another image's charts; caps and the data root hold with default settings.

Memory is read from /proc/self/status: VmHWM (peak, reset before the uploads) and VmRSS."""
from __future__ import annotations

import gc

import pytest
from hostile import hostile_uploads, png
from PIL import Image
from streamlit.testing.v1 import AppTest

from attnviz.runtime.memory import peak_rss, reset_peak_rss, return_freed_memory, rss
from apptest_kit import chart_titles, text_of, upload
from bundled_kit import app_test

MiB = 2**20


@pytest.fixture
def app(se_assets, monkeypatch, tmp_path) -> AppTest:
    return app_test(monkeypatch, se_assets, tmp_path / "none", 300, data_root=False)


def test_twelve_hostile_uploads_cost_bounded_memory_and_the_good_photo_keeps_its_charts(app, goldfish):
    if rss() is None or not reset_peak_rss():
        pytest.skip("needs Linux /proc to measure memory")
    at = app.run()  # model loaded, caches warm: the baseline
    assert not at.exception
    gc.collect()
    return_freed_memory()
    before = rss()
    reset_peak_rss()
    files = [("goldfish.jpg", goldfish.read_bytes())] + hostile_uploads(palettes=6)
    assert len(files) == 12 and sum(len(d) for _, d in files) < 1_000_000  # under 1 MB declaring 400 MP
    at = upload(at, *files)
    peak = peak_rss() - before
    gc.collect()
    return_freed_memory()
    after = rss() - before
    print(f"\n12 hostile uploads: peak +{peak / MiB:.0f} MiB, resident after +{after / MiB:.0f} MiB")
    assert not at.exception, [e.value for e in at.exception]
    assert "Traceback" not in text_of(at.error) + text_of(at.warning)
    assert peak < 1536 * MiB and after < 512 * MiB
    shown = chart_titles(at)
    # The good photo keeps every chart; strips and thin images are classified like any image.
    for name, _ in files:
        if name.startswith("bomb"):
            continue
        assert f"Top-5: {name}" in shown, name
        assert f"Excitation of every SE block — {name}" in shown, name
    # The bomb gets the pixel-limit message beside its name; nothing else is refused.
    warnings = text_of(at.warning)
    assert "**bomb_14000x14000.png** was skipped: is 196,000,000 pixels, over the limit of 64,000,000 pixels" in warnings
    assert warnings.count("was skipped") == 1
    images = at.get("image")
    assert len(images) >= 11  # every analysable image is shown, the strips letterboxed


def test_session_caps_name_the_limit_and_the_rest_goes_on(app, monkeypatch):
    monkeypatch.setenv("ATTNVIZ_MAX_IMAGES", "3")
    at = app.run()
    files = [(f"c{i}.png", png(Image.new("RGB", (64, 48), (40 * i, 90, 160)))) for i in range(5)]
    at = upload(at, *files)
    assert not at.exception
    warnings = text_of(at.warning)
    assert "**c3.png** was skipped: not analysed: a session may analyse at most 3 images at once" in warnings
    assert "**c4.png**" in warnings
    assert {f"Top-5: c{i}.png" for i in range(3)} <= set(chart_titles(at))
    monkeypatch.setenv("ATTNVIZ_MAX_IMAGES", "24")
    monkeypatch.setenv("ATTNVIZ_MAX_UPLOAD_MB", "1")
    big = [(f"n{i}.png", png(Image.effect_noise((400, 400), 60).convert("RGB"))) for i in range(4)]
    assert sum(len(d) for _, d in big) > 2**20
    at = upload(at, *big)
    assert "may add up to at most 1 MB" in text_of(at.warning)
    assert "Top-5: n0.png" in chart_titles(at)


def test_no_server_path_can_be_typed_or_listed_by_default(app):
    at = app.run()
    assert not at.text_input and not at.sidebar.text_input
    at.sidebar.selectbox(key="model").set_value("skresnet18").run()
    at.sidebar.radio(key="weights_mode_skresnet18").set_value("file").run()
    assert not at.sidebar.text_input
    assert "weights_root_skresnet18" not in [w.key for w in at.sidebar.selectbox]  # no data root: no server files
    at.switch_page("attnviz/app/pages/compare.py").run()
    assert not at.exception and not at.text_input


def test_the_data_root_offers_only_what_lies_inside_it(app, monkeypatch, tmp_path):
    root = tmp_path / "root"
    (root / "weights").mkdir(parents=True)
    (root / "weights" / "mine.pth").write_bytes(b"not a checkpoint")
    outside = tmp_path / "secret.pth"
    outside.write_bytes(b"secret")
    (root / "weights" / "link.pth").symlink_to(outside)
    monkeypatch.setenv("ATTNVIZ_DATA_ROOT", str(root))
    at = app.run()
    at.sidebar.selectbox(key="model").set_value("skresnet18").run()
    at.sidebar.radio(key="weights_mode_skresnet18").set_value("file").run()
    choice = at.sidebar.selectbox(key="weights_root_skresnet18")
    assert choice.options[1:] == ["weights/mine.pth"]  # the link to a file outside is not offered
    choice.set_value("weights/mine.pth").run()
    assert not at.exception
    assert "skresnet18 could not be loaded" in text_of(at.error) and "mine.pth" in text_of(at.error)
