"""Uploads that a classroom server must survive: tiny files that declare huge or extreme images.

Each is a valid image file of a few hundred bytes to a few tens of KB. Used by the app tests, the
browser test and bench/serve_memory.py.
"""
from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def declared_png(width: int, height: int) -> bytes:
    """A PNG header declaring width x height 1-bit pixels, with a token body: over Pillow's own
    decompression-bomb limit (about 179 megapixels) it never gets decoded."""
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _chunk(b"IEND", b""))


def flat_palette_png(side: int = 8000, colour: int = 0) -> bytes:
    """A flat side x side palette PNG: about 16 KB that decodes to side² bytes (64 MB at 8000)."""
    image = Image.new("P", (side, side), colour)
    image.putpalette([(colour * 37 + i) % 256 for i in range(768)])
    return png(image)


def hostile_uploads(palettes: int = 6, variant: int = 0) -> list[tuple[str, bytes]]:
    """Named hostile uploads: strips, thin images, a bomb over Pillow's limit and large flat PNGs.
    ``variant`` changes every file's content (not its kind), so that sessions share no cache entry."""
    v = variant % 200
    files = [
        ("strip_40000x1.png", png(Image.new("RGB", (40000, 1), (30 + v, 160, 40)))),
        ("strip_200000x1.png", png(Image.new("L", (200000, 1), 20 + v))),
        ("thin_3000x2.png", png(Image.new("RGB", (3000, 2), (20, 40 + v, 200)))),
        ("thin_20000x10.png", png(Image.new("RGB", (20000, 10), (200, 40, 20 + v)))),
        ("bomb_14000x14000.png", declared_png(14000, 14000 + v)),
    ]
    files += [(f"flat_8000x8000_{i}.png", flat_palette_png(8000, (i + 7 * v) % 256)) for i in range(palettes)]
    return files
