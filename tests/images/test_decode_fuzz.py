"""Fuzzing the decoder: no byte sequence makes an exception escape it.

Seeds: a small file of every format Pillow writes here (``hostile.seed_files``), byte-mutated by
hypothesis (``mutations``). Every result must be an RGB image or the project's refusal
(``ImageLoadError`` naming the file): anything else escaping is a failing test. The bounded run is
derandomised (the same cases on every run, no database, no deadline) and takes seconds; the long
run is ``python -m pytest tests/images/test_decode_fuzz.py -m fuzz`` (``ATTNVIZ_FUZZ_EXAMPLES`` cases,
default 20000) or ``python bench/fuzz_decode.py``, which also prints what it found.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from attnviz.errors import ImageLoadError
from attnviz.images.decode_cost import estimate
from attnviz.images.loading import decode_views, load_image
from attnviz.serving.decoding import DecoderPool, DecoderSettings
from hostile import escapes, seed_files
from mutations import mutated

SEEDS = seed_files()
ESCAPES = Path(__file__).resolve().parents[1] / "escapes"
FUZZ = dict(derandomize=True, deadline=None, database=None, print_blob=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def decoded_or_refused(name: str, data: bytes) -> str:
    """Run every entry point of the decoder on ``data``; 'ok' or 'refused', never an exception."""
    estimate(data)  # never raises, whatever the bytes
    outcomes = []
    for run in (lambda: load_image(data, name), lambda: decode_views(data, name)[0].model):
        try:
            image = run()
        except ImageLoadError as exc:
            assert exc.name == name and exc.reason and str(exc).startswith(f"{name}: ")
            outcomes.append("refused")
        else:
            assert image.mode == "RGB" and image.width > 0 and image.height > 0
            outcomes.append("ok")
    return outcomes[0]


def test_the_seeds_cover_every_format_pillow_writes():
    from PIL import Image

    Image.init()
    names = {name.split(".")[0].split("_")[0] for name in SEEDS}
    assert {"jpeg", "png", "gif", "webp", "tiff", "bmp", "ico", "tga", "pcx", "ppm", "dds", "mpo"} <= names
    assert {decoded_or_refused(n, d) for n, d in SEEDS.items() if n.split(".")[-1] in
            ("jpg", "png", "gif", "webp", "tif", "bmp")} == {"ok"}
    # formats the app does not advertise are refused by content, whatever the file's name
    for name in ("ico.ico", "dds.dds", "pcx.pcx", "ppm.ppm", "tga.tga", "sgi.sgi"):
        with pytest.raises(ImageLoadError, match="photo.jpg: .*(not supported|not a readable image)"):
            load_image(SEEDS[name], "photo.jpg")


def _regression_files() -> list[tuple[str, bytes]]:
    files = sorted(escapes().items()) + [(p.name, p.read_bytes()) for p in sorted(ESCAPES.iterdir())]
    assert len(files) >= 8
    return files


@pytest.mark.parametrize("name, data", _regression_files(), ids=lambda v: v if isinstance(v, str) else "")
def test_the_escapes_found_are_refused_or_decoded(name, data):
    """The exact escapes of issue 25 (EXIF TypeError and struct.error, DDS named .jpg) and those
    the fuzzer found against the old decoder (tests/escapes/)."""
    outcome = decoded_or_refused(name, data)
    if name.startswith(("dds", "avif")):
        assert outcome == "refused"


def test_a_damaged_exif_keeps_the_picture_and_its_valid_orientation():
    files = escapes()
    for name in ("exif_rational_as_bytes.jpg", "exif_short_as_text.jpg"):
        notes: list[str] = []
        image = load_image(files[name], name, notes)
        assert image.size == (16, 24)  # 24 x 16 turned by orientation 6, which is valid here
    from hostile import _ifd, jpeg_with_exif
    import struct

    invalid = jpeg_with_exif(_ifd([(0x0112, 3, 1, struct.pack("<H", 9))]))
    notes = []
    assert load_image(invalid, "nine.jpg", notes).size == (24, 16)
    assert notes == ["invalid EXIF orientation (9): ignored"]


@settings(max_examples=400, **FUZZ)
@given(mutated(SEEDS))
def test_no_mutation_escapes_the_decoder(case):
    decoded_or_refused(*case)


@pytest.fixture(scope="module")
def pool():
    pool = DecoderPool(DecoderSettings(workers=1))
    yield pool
    pool.close()


@settings(max_examples=40, **FUZZ)
@given(mutated(SEEDS))
def test_no_mutation_escapes_the_served_decoder(pool, case):
    """The server's path: the decoder process and the checks of what it sends back."""
    name, data = case
    try:
        views = pool.decode(data, name)
    except ImageLoadError as exc:
        assert exc.name == name and exc.reason
    else:
        assert views.model.mode == "RGB" and views.display.mode == "RGB"


@pytest.mark.fuzz
@pytest.mark.slow
def test_long_fuzz_run(request):
    """The long run: only when asked for (``-m fuzz``)."""
    if "fuzz" not in (request.config.getoption("-m") or ""):
        pytest.skip("the long fuzz run is asked for with -m fuzz")
    examples = int(os.environ.get("ATTNVIZ_FUZZ_EXAMPLES", "20000"))

    @settings(max_examples=examples, **FUZZ)
    @given(mutated(SEEDS))
    def run(case):
        decoded_or_refused(*case)

    run()
