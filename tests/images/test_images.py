"""The one image loader: formats, orientation, modes, and clear refusals."""
from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from PIL import Image

from attnviz.errors import ImageLoadError
from attnviz.images.loading import MAX_PIXELS, list_image_files, load_image, load_images


def _encode(image: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _rgb(w=40, h=30, colour=(200, 30, 10)) -> Image.Image:
    return Image.new("RGB", (w, h), colour)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF"])
def test_formats_load_as_rgb(fmt):
    img = load_image(_encode(_rgb(), fmt), "x")
    assert img.mode == "RGB" and img.size == (40, 30)
    r, g, b = img.getpixel((20, 15))
    assert r > 150 and g < 80 and b < 80


def test_gif_first_frame():
    frames = [_rgb(colour=(255, 0, 0)).convert("P"), _rgb(colour=(0, 0, 255)).convert("P")]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    img = load_image(buf.getvalue(), "anim.gif")
    assert img.getpixel((5, 5))[0] > 200 and img.getpixel((5, 5))[2] < 50


def test_exif_orientation_is_applied():
    img = _rgb(40, 20)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    loaded = load_image(_encode(img, "JPEG", exif=exif), "rotated.jpg")
    assert loaded.size == (20, 40)


@pytest.mark.parametrize("mode", ["L", "1", "P", "CMYK", "LA", "RGBA", "I;16", "I", "F"])
def test_every_mode_becomes_rgb(mode):
    base = Image.new("RGB", (8, 8), (120, 120, 120))
    if mode == "I;16":
        img = Image.fromarray(np.full((8, 8), 30000, dtype=np.uint16))
    elif mode == "I":
        img = Image.fromarray(np.full((8, 8), 30000, dtype=np.int32))
    elif mode == "F":
        img = Image.fromarray(np.full((8, 8), 0.5, dtype=np.float32))
    else:
        img = base.convert(mode)
    fmt = "TIFF" if mode in ("I;16", "I", "F", "CMYK") else "PNG"
    out = load_image(_encode(img, fmt), f"{mode}.img")
    assert out.mode == "RGB"
    value = out.getpixel((4, 4))[0]
    if mode == "I;16" or mode == "I":
        assert 110 <= value <= 125  # 30000 / 65535 * 255 = 117, not clipped to 255
    elif mode == "F":
        assert 120 <= value <= 135
    elif mode != "1":
        assert 100 <= value <= 140


def test_alpha_is_composited_on_white():
    img = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    assert load_image(_encode(img, "PNG"), "clear.png").getpixel((1, 1)) == (255, 255, 255)
    half = Image.new("LA", (4, 4), (0, 128))
    assert 120 <= load_image(_encode(half, "PNG"), "la.png").getpixel((1, 1))[0] <= 135


@pytest.mark.parametrize("data,needle", [
    (b"", "empty"),
    (b"hello, this is a text file\n", "text file"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>', "SVG"),
    (b"<svg width='10'></svg>", "SVG"),
    (b"\x00\x01\x02\x03garbage\xff\xfe", "not a readable image"),
])
def test_non_images_are_refused_with_the_file_name(data, needle):
    with pytest.raises(ImageLoadError) as info:
        load_image(data, "thing.jpg")
    assert str(info.value).startswith("thing.jpg: ")
    assert needle in str(info.value)


def test_truncated_jpeg_is_refused():
    data = _encode(Image.effect_noise((256, 256), 50).convert("RGB"), "JPEG")
    with pytest.raises(ImageLoadError, match="cut.jpg: .*truncated"):
        load_image(data[: len(data) // 2], "cut.jpg")


def test_decompression_bomb_is_refused_before_decoding():
    side = int(MAX_PIXELS ** 0.5) + 100
    # A valid PNG header claiming a huge size, with a tiny (compressed) body.
    raw = zlib.compress(b"\x00" * (side + 1) * 8)
    import struct

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)) \
        + chunk(b"IDAT", raw) + chunk(b"IEND", b"")
    with pytest.raises(ImageLoadError, match="bomb.png: .*over the limit"):
        load_image(png, "bomb.png")


def test_zero_size_is_refused():
    import struct

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 10, 8, 2, 0, 0, 0)) + chunk(b"IEND", b"")
    with pytest.raises(ImageLoadError, match="zero.png"):
        load_image(png, "zero.png")


def test_unsupported_format_is_refused():
    with pytest.raises(ImageLoadError, match="not supported"):
        load_image(_encode(_rgb(), "ICO"), "icon.ico")


def test_files_and_missing_files(tmp_path, goldfish):
    assert load_image(goldfish).mode == "RGB"
    with pytest.raises(ImageLoadError, match="nope.jpg: no such file"):
        load_image(tmp_path / "nope.jpg")
    with pytest.raises(ImageLoadError, match="is a folder"):
        load_image(tmp_path)


def test_one_bad_file_does_not_stop_the_batch(goldfish):
    results = load_images([("good.jpg", goldfish), ("bad.txt", b"text"), ("good2.png", _encode(_rgb(), "PNG"))])
    assert [r.ok for r in results] == [True, False, True]
    assert "bad.txt" in results[1].error


def test_list_image_files(tmp_path):
    (tmp_path / "b.PNG").write_bytes(_encode(_rgb(), "PNG"))
    (tmp_path / "a.jpg").write_bytes(_encode(_rgb(), "JPEG"))
    (tmp_path / "notes.txt").write_text("x")
    assert [p.name for p in list_image_files(tmp_path)] == ["a.jpg", "b.PNG"]
