"""Every page isolates every image: files that once escaped the decoder (issue 25, the fuzzer's
finds in tests/escapes/), uploaded beside a good photo on every page that takes images, are refused
by name (or decoded, where only their metadata is damaged), and the good photo keeps every chart it
has when uploaded alone. AppTest, in this process; the bundled-format SE and SK models."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from attnviz.serving.inputs import ImageInput, decode
from apptest_kit import chart_titles, text_of
from bundled_kit import app_test
from hostile import escapes

ESCAPES = Path(__file__).resolve().parents[1] / "escapes"
#: page script -> (model, widgets to set before the upload): the SK model where the page needs one.
PAGES = {
    "explore": ("test_se", {}),
    "learn": ("test_se", {}),
    "attribution": ("test_se", {}),
    "scale": ("test_sk", {}),
    "models": ("test_se", {}),
    "compare": ("test_se", {"class_source": "images"}),
}


def bad_files() -> list[tuple[str, bytes]]:
    found = [(p.name, p.read_bytes()) for p in sorted(ESCAPES.iterdir())]
    return sorted(escapes().items()) + found


@pytest.fixture
def app(assets, monkeypatch, tmp_path) -> AppTest:
    return app_test(monkeypatch, assets, tmp_path / "none", 300, data_root=False)


def on_page(at: AppTest, page: str, files: list[tuple[str, bytes]]) -> AppTest:
    model, widgets = PAGES[page]
    at.switch_page(f"attnviz/app/pages/{page}.py")
    at.sidebar.selectbox(key="model").set_value(model)
    at.sidebar.file_uploader(key="uploads").set_value([(n, d, "application/octet-stream") for n, d in files])
    at = at.run()
    for key, value in widgets.items():
        at.radio(key=key).set_value(value)
        at = at.run()
    return at


def split(files: list[tuple[str, bytes]]) -> tuple[list[tuple[str, bytes]], list[str]]:
    """The files the server's decoder reads (their EXIF was their only fault) and those it refuses."""
    outcomes = [(name, data, decode(ImageInput(name, data)).ok) for name, data in files]
    return [(n, d) for n, d, ok in outcomes if ok], [n for n, _d, ok in outcomes if not ok]


@pytest.mark.slow
@pytest.mark.parametrize("page", list(PAGES))
def test_every_bad_file_beside_a_good_photo_leaves_its_charts(app, goldfish, page):
    readable, refused = split(bad_files())
    # what the old decoder let escape is refused by name, or decoded where only EXIF was damaged
    assert {"dds_named.jpg", "avif_named.png", "dds_from_dds.jpg", "avif_from_avif.avif"} <= set(refused)
    assert {n for n, _d in readable} <= {"exif_rational_as_bytes.jpg", "exif_short_as_text.jpg",
                                         "struct_error_from_jpeg_exif.jpg", "typeerror_abs_str_from_jpeg_progressive.jpg",
                                         "typeerror_ifdrational_from_tiff_float.tif"}
    good = [("goldfish.jpg", goldfish.read_bytes())] + readable
    alone = on_page(app.run(), page, good)
    assert not alone.exception, [e.value for e in alone.exception]
    expected = chart_titles(alone)
    assert expected, f"{page}: the good photos alone draw no chart"
    at = on_page(app.run(), page, good + [(n, d) for n, d in bad_files() if n in refused])
    assert not at.exception, [e.value for e in at.exception]
    errors = text_of(at.error)
    assert "Something went wrong" not in errors and "Traceback" not in errors + text_of(at.warning)
    assert sorted(chart_titles(at)) == sorted(expected)  # every chart of the good photos, and no other
    warnings = text_of(at.warning)
    for name in refused:
        assert f"**{name}** was skipped: " in warnings, name


def test_a_photo_with_an_invalid_orientation_is_shown_with_a_note(app, goldfish):
    import struct

    from hostile import _ifd, jpeg_with_exif

    nine = jpeg_with_exif(_ifd([(0x0112, 3, 1, struct.pack("<H", 9))]))
    at = on_page(app.run(), "explore", [("goldfish.jpg", goldfish.read_bytes()), ("nine.jpg", nine)])
    assert not at.exception
    assert "**nine.jpg**: invalid EXIF orientation (9): ignored" in text_of(at.caption)
    assert {"Top-5: goldfish.jpg", "Top-5: nine.jpg"} <= set(chart_titles(at))
