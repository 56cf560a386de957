"""The decode budget: costs read from the structure, and the decoder processes' enforced limits."""
from __future__ import annotations

import os
import signal
import struct

import pytest

from attnviz.errors import ImageLoadError
from attnviz.i18n import language
from attnviz.images.decode_cost import DecodeLimits, estimate, sniff
from attnviz.images.loading import load_image
from attnviz.serving.decoding import DecoderPool, DecoderSettings, _Worker
from attnviz.serving.inputs import ImageInput, decode
from hostile import (_ifd, comment_flood_jpeg, exif_flood_jpeg, flat_palette_png, jpeg_with_exif, many_strips_tiff,
                     progressive_jpeg, repeated_scans_jpeg, rle4_bmp, seed_files)

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the decoder processes' limits need POSIX")


@pytest.fixture(scope="module")
def pool():
    pool = DecoderPool(DecoderSettings(workers=1))
    yield pool
    pool.close()


def _refusal(pool: DecoderPool, data: bytes, name: str) -> str:
    with pytest.raises(ImageLoadError) as info:
        pool.decode(data, name)
    assert info.value.name == name
    return info.value.reason


@pytest.mark.parametrize("name, make, needle", [
    ("scans.jpg", repeated_scans_jpeg, "3,010 progressive scans, over the limit of 100"),
    ("comments.jpg", lambda: comment_flood_jpeg(4), "markers, chunks or tags, over the limit of 2,000"),
    ("exif.jpg", lambda: exif_flood_jpeg(1), "EXIF blocks, over the limit of 4"),
    ("strips.tif", many_strips_tiff, "2,800,000 TIFF strips or tiles, over the limit of 100,000"),
    ("rle.bmp", rle4_bmp, "run-length-encoded BMP of 64,000,000 pixels"),
])
def test_costly_structures_are_refused_before_decoding(pool, name, make, needle):
    started = pool.started
    reason = _refusal(pool, make(), name)
    assert reason.startswith("too costly to decode: ") and needle in reason
    assert pool.started == started  # no decoder process was needed to refuse it
    with pytest.raises(ImageLoadError, match="too costly to decode"):
        load_image(make(), name)  # the CLI's and the profiler's loader refuses it the same way


def test_the_memory_estimate_counts_what_a_decode_keeps():
    """A progressive JPEG keeps every DCT coefficient (64 of 2 bytes per 8x8 block and component),
    at full size whatever the reduced output; a baseline one is decoded at 1/8 scale."""
    data = progressive_jpeg(4000)
    cost = estimate(data, draft_target=512)
    assert cost.progressive and cost.scans >= 2 and cost.draft_scale == 4
    coefficients = 3 * (4000 // 8) ** 2 * 64 * 2  # subsampling=0: three full-size components
    assert coefficients <= cost.bytes_needed <= coefficients + 64 * 2**20
    assert estimate(data.replace(b"\xff\xc2", b"\xff\xc0", 1)[:2000], draft_target=512).bytes_needed < coefficients


def test_formats_are_found_by_content():
    seeds = seed_files()
    assert [sniff(seeds[n][:64]) for n in ("jpeg_exif.jpg", "png_rgba.png", "gif_anim.gif", "tiff_lzw.tif",
                                          "bmp_rgb.bmp", "webp_lossy.webp", "dds.dds", "ico.ico")] == \
        ["JPEG", "PNG", "GIF", "TIFF", "BMP", "WEBP", "DDS", "ICO"]


@pytest.mark.slow
def test_over_the_memory_limit_a_file_is_refused_by_name(pool):
    small = DecoderPool(DecoderSettings(workers=1, limits=DecodeLimits(max_bytes=100 * 2**20)))
    try:
        reason = _refusal(small, flat_palette_png(8000), "flat.png")
    finally:
        small.close()
    assert "would need about 368 MB of memory, over the limit of 100 MB; downscale it first" in reason
    # the default limits let the same 64-megapixel file through, in the decoder process
    views = pool.decode(flat_palette_png(8000), "flat.png")
    assert views.size == (8000, 8000) and max(views.display.size) == 512


@pytest.mark.slow
def test_a_decode_past_its_cpu_time_is_ended_and_the_next_file_goes_on():
    """RLIMIT_CPU in the decoder process: the kernel ends it; CPU time, so no timing in the test.
    The RLE limit is lifted so that the file reaches the decoder (Pillow decodes RLE in Python,
    about 4 s of CPU for 8000²)."""
    pool = DecoderPool(DecoderSettings(workers=1, cpu_seconds=1, wall_seconds=600,
                                       limits=DecodeLimits(max_rle_pixels=10**9)))
    try:
        reason = _refusal(pool, rle4_bmp(8000), "slow.bmp")
        assert reason.startswith("too costly to decode: it took more than 1 s of CPU time")
        good = pool.decode(seed_files()["jpeg_exif.jpg"], "good.jpg")
        assert good.model.mode == "RGB" and pool.started == 2  # a fresh worker for the next file
    finally:
        pool.close()


def test_a_decode_past_its_memory_allowance_fails_in_the_worker_only():
    """RLIMIT_AS: the worker is told the file may use 8 MB; the decode needs far more."""
    worker = _Worker()
    try:
        reply, blobs = worker.decode(flat_palette_png(4000), "big.png", 8 * 2**20, DecoderSettings())
        assert not reply["ok"] and reply["reason"].startswith("too costly to decode: it needs more memory")
        assert blobs == []
        worker.proc.wait(timeout=60)  # after a MemoryError the worker ends; the pool starts another
    finally:
        worker.kill()


def test_a_worker_that_does_not_answer_is_killed_at_the_wall_clock_limit():
    pool = DecoderPool(DecoderSettings(workers=1, wall_seconds=1))
    try:
        pool.decode(seed_files()["png_rgba.png"], "warm.png")
        [pid] = pool.worker_pids()
        os.kill(pid, signal.SIGSTOP)  # a worker stuck in a decode: it never answers
        reason = _refusal(pool, seed_files()["png_rgba.png"], "stuck.png")
        assert reason.startswith("too costly to decode: it was not decoded within 1 s")
        assert pid not in pool.worker_pids()
        assert pool.decode(seed_files()["png_rgba.png"], "next.png").size == (24, 16)
    finally:
        pool.close()


def test_the_served_decode_keeps_notes_and_speaks_the_readers_language():
    nine = jpeg_with_exif(_ifd([(0x0112, 3, 1, struct.pack("<H", 9))]))
    out = decode(ImageInput("nine.jpg", nine))
    assert out.ok and out.notes == ("invalid EXIF orientation (9): ignored",)
    with language("ja"):
        refused = decode(ImageInput("icon.jpg", seed_files()["ico.ico"]))
    assert not refused.ok and "ICO" in refused.error and "JPEG" in refused.error
    assert refused.error != decode(ImageInput("icon.jpg", seed_files()["ico.ico"])).error  # not English


def test_where_no_decoder_process_can_start_the_server_decodes_in_process(monkeypatch):
    import sys

    monkeypatch.setattr(sys, "executable", "/nonexistent/python")  # Popen fails as in a sandbox
    pool = DecoderPool(DecoderSettings(workers=1))
    views = pool.decode(seed_files()["jpeg_exif.jpg"], "x.jpg")
    assert views.size == (16, 24) and pool.started == 0
    with pytest.raises(ImageLoadError, match="DDS images are not supported"):
        pool.decode(seed_files()["dds.dds"], "x.jpg")
