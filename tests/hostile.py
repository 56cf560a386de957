"""Uploads that a classroom server must survive: tiny files that declare huge or extreme images.

Each is a valid image file of a few hundred bytes to a few tens of KB. Used by the app tests, the
browser test and bench/serve_memory.py.
"""
from __future__ import annotations

import contextlib
import io
import struct
import zipfile
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


# ---------------------------------------------------------------- fuzz seeds


def _saved(image: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


def _exif(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation              # orientation: what exif_transpose reads
    exif[0x010F] = "attnviz"                # make
    exif[0x0131] = "attnviz test"           # software
    return exif


def seed_files() -> dict[str, bytes]:
    """Small files of every format Pillow writes here, made by Pillow itself (the fuzzer's seeds):
    the six formats the app accepts, in their common variants (EXIF, progressive, animated,
    palette, alpha, 16-bit), and the formats it refuses (ICO, DDS, TGA, PCX, PPM, QOI, ...)."""
    from PIL import features

    photo = Image.radial_gradient("L").resize((24, 16)).convert("RGB")
    photo.putpixel((3, 3), (250, 10, 10))
    frames = [photo, photo.rotate(180)]
    seeds = {
        "jpeg_exif.jpg": _saved(photo, "JPEG", exif=_exif(), quality=80),
        "jpeg_progressive.jpg": _saved(photo, "JPEG", progressive=True, exif=_exif(8)),
        "jpeg_grey.jpg": _saved(photo.convert("L"), "JPEG"),
        "jpeg_cmyk.jpg": _saved(photo.convert("CMYK"), "JPEG"),
        "mpo.jpg": _saved(photo, "MPO", save_all=True, append_images=[photo.rotate(90)]),
        "png_rgba.png": _saved(photo.convert("RGBA"), "PNG", exif=_exif(3)),
        "png_palette.png": _saved(photo.convert("P"), "PNG", transparency=0),
        "png_16bit.png": _saved(Image.new("I;16", (12, 9), 40000), "PNG"),
        "apng.png": _saved(photo, "PNG", save_all=True, append_images=frames[1:]),
        "gif_anim.gif": _saved(photo.convert("P"), "GIF", save_all=True, append_images=[f.convert("P") for f in frames],
                               comment=b"attnviz"),
        "tiff_lzw.tif": _saved(photo, "TIFF", compression="tiff_lzw", exif=_exif(5)),
        "tiff_float.tif": _saved(Image.new("F", (10, 7), 0.5), "TIFF"),
        "tiff_multi.tif": _saved(photo, "TIFF", save_all=True, append_images=frames[1:]),
        "bmp_rgb.bmp": _saved(photo, "BMP"),
        "bmp_palette.bmp": _saved(photo.convert("P"), "BMP"),
        "ico.ico": _saved(photo, "ICO"),
        "tga.tga": _saved(photo, "TGA", compression="tga_rle"),
        "pcx.pcx": _saved(photo, "PCX"),
        "ppm.ppm": _saved(photo, "PPM"),
        "dds.dds": _saved(photo.convert("RGBA"), "DDS"),
        "sgi.sgi": _saved(photo, "SGI"),
        "msp.msp": _saved(photo.convert("1"), "MSP"),
        "xbm.xbm": _saved(photo.convert("1"), "XBM"),
    }
    if features.check("webp"):
        seeds["webp_lossy.webp"] = _saved(photo, "WEBP", quality=70, exif=_exif(6).tobytes())
        seeds["webp_lossless.webp"] = _saved(photo.convert("RGBA"), "WEBP", lossless=True)
        seeds["webp_anim.webp"] = _saved(photo, "WEBP", save_all=True, append_images=frames[1:])
    for fmt, options in (("QOI", {}), ("JPEG2000", {}), ("AVIF", {}), ("BLP", {})):
        with contextlib.suppress(KeyError, OSError, ValueError):  # not writable by this Pillow build
            seeds[f"{fmt.lower()}.{fmt.lower()}"] = _saved(photo, fmt, **options)
    return seeds


# ---------------------------------------------------------------- the decoder escapes of issue 25


def _ifd(entries: list[tuple[int, int, int, bytes]]) -> bytes:
    """A little-endian TIFF header and one IFD of (tag, type, count, value or inline bytes);
    values longer than 4 bytes follow the directory."""
    head = b"II*\x00" + struct.pack("<I", 8)
    table, extra = b"", b""
    data_at = 8 + 2 + 12 * len(entries) + 4
    for tag, kind, count, value in entries:
        if len(value) <= 4:
            table += struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\0")
        else:
            table += struct.pack("<HHII", tag, kind, count, data_at + len(extra))
            extra += value
    return head + struct.pack("<H", len(entries)) + table + b"\0\0\0\0" + extra


def jpeg_with_exif(exif: bytes) -> bytes:
    """A small JPEG whose APP1 block is ``exif`` (the bytes after 'Exif\\0\\0')."""
    photo = Image.new("RGB", (24, 16), (200, 40, 30))
    return _saved(photo, "JPEG", exif=b"Exif\x00\x00" + exif)


def escapes() -> dict[str, bytes]:
    """The files whose exceptions escaped ``attnviz.serving.inputs.decode`` (issue 25), rebuilt:
    a rational EXIF tag stored as raw bytes (TypeError: bad operand type for abs(): 'bytes', when
    Pillow's exif_transpose rewrote the EXIF), a SHORT tag stored as text (struct.error: required
    argument is not an integer, same place), a DDS file named .jpg (NotImplementedError: Unknown
    pixel format flags 0) and an AVIF file named .png (RuntimeError)."""
    rotate = (0x0112, 3, 1, struct.pack("<H", 6))
    dds = bytearray(_saved(Image.new("RGBA", (8, 8), (10, 20, 30, 255)), "DDS"))
    struct.pack_into("<I", dds, 80, 0)  # DDS_PIXELFORMAT.dwFlags = 0
    files = {
        "exif_rational_as_bytes.jpg": jpeg_with_exif(_ifd([rotate, (0x011A, 7, 8, b"\x01" * 8)])),
        "exif_short_as_text.jpg": jpeg_with_exif(_ifd([(0x0100, 2, 4, b"abc\x00"), rotate])),
        "dds_named.jpg": bytes(dds),
    }
    with contextlib.suppress(KeyError, OSError, ValueError):
        files["avif_named.png"] = _saved(Image.new("RGB", (8, 8)), "AVIF")[:200]
    return files


# ---------------------------------------------------------------- costly files (issue 26, items 2 and 3)


def _jpeg_segments(data: bytes) -> tuple[bytes, bytes]:
    """A JPEG split before its first SOS: (SOI and the tables, the scans and EOI)."""
    at = data.index(b"\xff\xda")
    return data[:at], data[at:]


def progressive_jpeg(side: int = 8000) -> bytes:
    """A flat progressive side² JPEG: a few hundred KB whose decode keeps every DCT coefficient."""
    return _saved(Image.new("RGB", (side, side), (120, 140, 160)), "JPEG", progressive=True, quality=90,
                  subsampling=0)


def repeated_scans_jpeg(side: int = 2000, scans: int = 3000) -> bytes:
    """A progressive JPEG whose last scan is repeated ``scans`` times: each repeat costs the
    decoder a pass over the whole image."""
    head, body = _jpeg_segments(progressive_jpeg(side))
    last = body.rindex(b"\xff\xda")
    return head + body[:-2] + body[last:-2] * scans + b"\xff\xd9"


def comment_flood_jpeg(megabytes: float = 25) -> bytes:
    """A small JPEG preceded by empty comment markers (FF FE 00 02) filling ``megabytes``."""
    head, body = _jpeg_segments(_saved(Image.new("RGB", (64, 64), (9, 9, 9)), "JPEG"))
    count = int(megabytes * 2**20) // 4
    return head[:2] + b"\xff\xfe\x00\x02" * count + head[2:] + body


def exif_flood_jpeg(megabytes: float = 1, block_bytes: int = 256) -> bytes:
    """A small JPEG with APP1 Exif blocks of ``block_bytes`` filling ``megabytes``: Pillow joins
    them with ``+=`` as it reads them (quadratic), then parses the result."""
    head, body = _jpeg_segments(_saved(Image.new("RGB", (64, 64), (9, 9, 9)), "JPEG"))
    block = b"Exif\x00\x00" + _ifd([(0x010F, 2, 4, b"abc\x00")])
    block += b"\x00" * (block_bytes - 4 - len(block))
    app1 = b"\xff\xe1" + struct.pack(">H", len(block) + 2) + block
    return head[:2] + app1 * max(1, int(megabytes * 2**20) // len(app1)) + head[2:] + body


def many_strips_tiff(strips: int = 2_800_000) -> bytes:
    """A 1 x ``strips`` grey TIFF with one strip per row: 8 bytes of offsets per pixel."""
    header = 8 + 2 + 12 * 7 + 4
    offsets_at, counts_at = header, header + 4 * strips
    pixels_at = counts_at + 4 * strips
    entries = [(256, 4, 1, struct.pack("<I", 1)), (257, 4, 1, struct.pack("<I", strips)),
               (258, 3, 1, struct.pack("<H", 8)), (262, 3, 1, struct.pack("<H", 1)),
               (273, 4, strips, struct.pack("<I", offsets_at)), (278, 4, 1, struct.pack("<I", 1)),
               (279, 4, strips, struct.pack("<I", counts_at))]
    table = b"".join(struct.pack("<HHI", t, k, c) + v.ljust(4, b"\0") for t, k, c, v in entries)
    return (b"II*\x00" + struct.pack("<IH", 8, len(entries)) + table + b"\0\0\0\0"
            + struct.pack(f"<{strips}I", *range(pixels_at, pixels_at + strips)) + struct.pack("<I", 1) * strips
            + b"\x80" * strips)


def lossless_webp(side: int = 8000) -> bytes:
    """A flat side² lossless WebP (a few KB)."""
    return _saved(Image.new("RGB", (side, side), (30, 60, 90)), "WEBP", lossless=True, method=0, quality=0)


def rle4_bmp(side: int = 8000) -> bytes:
    """A side² 4-bit run-length-encoded BMP: runs of 255 pixels, about 8 bytes per 1000 pixels."""
    row = b"".join(struct.pack("BB", min(255, side - x), 0x12) for x in range(0, side, 255)) + b"\x00\x00"
    bits = row * side + b"\x00\x01"
    palette = bytes(range(64))
    offset = 14 + 40 + len(palette)
    return (b"BM" + struct.pack("<IHHI", offset + len(bits), 0, 0, offset)
            + struct.pack("<IiiHHIIiiII", 40, side, side, 1, 4, 2, len(bits), 2835, 2835, 16, 0) + palette + bits)


def costly_files() -> dict[str, bytes]:
    """The files of issue 26 (items 2 and 3) that cost memory or CPU out of proportion to their size."""
    return {
        "progressive_8000.jpg": progressive_jpeg(8000),
        "repeated_scans.jpg": repeated_scans_jpeg(),
        "comment_flood_25mb.jpg": comment_flood_jpeg(25),
        "exif_flood_2mb.jpg": exif_flood_jpeg(2),
        "strips_2800000.tif": many_strips_tiff(),
        "lossless_8000.webp": lossless_webp(8000),
        "rle4_8000.bmp": rle4_bmp(8000),
    }


def many_entries_zip(entries: int) -> bytes:
    """A zip whose central directory lists ``entries`` empty files (1.2 million: about 64 MB;
    over 65,535: zipfile writes the zip64 end record)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for i in range(entries):
            zf.writestr(zipfile.ZipInfo(f"c/{i}"), b"")
    return buf.getvalue()
