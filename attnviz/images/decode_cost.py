"""What decoding a file will cost, read from its structure before any pixel is decoded.

A few hundred bytes can declare gigabytes of pixels, and a few megabytes can hold work that Pillow
does in quadratic time or in Python loops. ``estimate`` reads only the file's headers and marker
lists (in bounded loops and C-speed byte counts) and returns a ``DecodeCost``: the format found by
content (whatever the file is called), the declared size, the memory a decode will need and the
structure that drives its CPU time (frames, progressive scans, strips and tiles, markers, metadata).
``DecodeLimits`` states what a decode may cost; ``check`` names the first limit a file passes.

This module imports the standard library only, so that a server can size and refuse a file before
handing it to a decoder process.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

MiB = 1 << 20

#: Formats the app advertises (what ``attnviz.images.loading`` decodes), by the name ``sniff`` returns.
ACCEPTED = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF")

#: Leading bytes of formats Pillow can open but the app does not accept: they are refused by
#: content, so a DDS file named photo.jpg never reaches the DDS decoder.
_OTHER_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"DDS ", "DDS"), (b"\x00\x00\x01\x00", "ICO"), (b"\x00\x00\x02\x00", "CUR"), (b"qoif", "QOI"),
    (b"8BPS", "PSD"), (b"icns", "ICNS"), (b"\xff\x4f\xff\x51", "JPEG 2000"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000"), (b"%!PS", "EPS"), (b"\xc5\xd0\xd3\xc6", "EPS"),
    (b"\x01\xda", "SGI"), (b"\x59\xa6\x6a\x95", "Sun raster"), (b"BLP1", "BLP"), (b"BLP2", "BLP"),
    (b"FLIF", "FLIF"), (b"\x76\x2f\x31\x01", "OpenEXR"), (b"#?RADIANCE", "HDR"), (b"\xd7\xcd\xc6\x9a", "WMF"),
    (b"\x01\x00\x00\x00", "EMF"), (b"gimp xcf", "XCF"), (b"#define", "XBM"), (b"/* XPM */", "XPM"),
    (b"SIMPLE  =", "FITS"), (b"\x89HDF", "HDF5"), (b"GRIB", "GRIB"), (b"BUFR", "BUFR"),
)


def sniff(head: bytes) -> str | None:
    """The image format of a file by its first bytes: one of ``ACCEPTED``, the name of another
    image format, or None when the bytes are no image format known here."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head.startswith(b"BM"):
        return "BMP"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return "AVIF" if brand in (b"avif", b"avis") else "HEIF" if brand[:3] in (b"hei", b"hev", b"mif") else None
    if len(head) >= 3 and head[0:1] == b"P" and head[1:2] in b"1234567F" and head[2:3] in b" \t\r\n":
        return "PPM"
    if len(head) >= 4 and head[0] == 0x0A and head[1] in (0, 2, 3, 4, 5) and head[2] in (0, 1) \
            and head[3] in (1, 2, 4, 8):
        return "PCX"
    for signature, name in _OTHER_SIGNATURES:
        if head.startswith(signature):
            return name
    return None


@dataclass(frozen=True)
class DecodeLimits:
    """What one decode may cost. The defaults admit every photo a camera or phone writes (and
    scans of up to 64 megapixels); what they refuse is made to cost."""

    max_pixels: int = 64_000_000        # declared width x height (about 8000 x 8000)
    max_bytes: int = 768 * MiB          # memory one decode may need (estimated from the structure)
    max_scans: int = 100                # JPEG scans (a progressive photo has about 10)
    max_markers: int = 2000             # JPEG segments, PNG/WebP chunks, GIF blocks, TIFF tags
    max_metadata: int = 8 * MiB         # EXIF, XMP, ICC, comments and text chunks together
    max_exif_segments: int = 4          # JPEG APP1 Exif segments (a photo has one)
    max_strips: int = 100_000           # TIFF strips or tiles
    max_rle_pixels: int = 16_000_000    # BMP RLE4/RLE8 (Pillow decodes those in Python)


@dataclass
class DecodeCost:
    """A file's structure as far as decoding cost goes (zero where the format has no such thing)."""

    format: str | None
    width: int = 0
    height: int = 0
    bytes_needed: int = 0                # memory the decode needs at once, estimated
    scans: int = 0                       # JPEG scans
    progressive: bool = False
    markers: int = 0                     # segments / chunks / blocks / tags read
    metadata: int = 0                    # bytes of EXIF, XMP, ICC, comments, text
    exif_segments: int = 0
    strips: int = 0                      # TIFF strips or tiles
    frames: int = 1                      # recorded, not limited: only the first frame is decoded
    rle: bool = False
    draft_scale: int = 1                 # JPEG: the decoder's reduction (1, 2, 4 or 8)
    damaged: list[str] = field(default_factory=list)  # what the structure reader could not follow

    @property
    def pixels(self) -> int:
        return self.width * self.height


#: Bytes per pixel of what Pillow holds for each decoded frame, before the RGB copy.
_RGB_BYTES = 4  # Pillow stores RGB (and every mode of 3 or 4 bands) in 4 bytes per pixel
_MARGIN = 32 * MiB


def _decode_memory(width: int, height: int, frame_bytes_per_pixel: int, extra: int = 0) -> int:
    """The decoded frame, its RGB copy (``attnviz.images.loading._to_rgb``), the resize's intermediate
    rows and a margin."""
    resize = min(width, 2048) * height * _RGB_BYTES + width * min(height, 2048) * _RGB_BYTES
    return width * height * (frame_bytes_per_pixel + _RGB_BYTES) + resize // 4 + extra + _MARGIN


# ---------------------------------------------------------------- JPEG

_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_PROGRESSIVE = {0xC2, 0xC6, 0xCA, 0xCE}


def _draft_scale(width: int, height: int, target: int) -> int:
    """The reduction libjpeg applies for ``Image.draft(None, (target, target))``: the largest of
    1/2/4/8 that keeps both sides at least ``target``."""
    scale = 1
    while scale < 8 and width // (scale * 2) >= target and height // (scale * 2) >= target:
        scale *= 2
    return scale


def _jpeg(data: bytes, cost: DecodeCost, limits: DecodeLimits, draft_target: int | None) -> None:
    header = _jpeg_header(data, cost, limits)
    if header is None:  # over a limit: refused on the counts so far
        return
    pos, components = header
    # The entropy-coded data: a 0xFF there is followed by 0x00 (stuffing), a restart marker
    # (0xD0-0xD7) or a real marker, so real markers are counted with byte counts at C speed.
    rest = data[pos:]
    cost.scans = rest.count(b"\xff\xda")
    stuffed = rest.count(b"\xff\x00") + sum(rest.count(bytes((0xFF, m))) for m in range(0xD0, 0xD8))
    cost.markers += max(0, rest.count(b"\xff") - stuffed - rest.count(b"\xff\xff"))
    if cost.width and cost.height:
        _jpeg_memory(cost, components, draft_target)


def _jpeg_header(data: bytes, cost: DecodeCost, limits: DecodeLimits) -> tuple[int, list[tuple[int, int]]] | None:
    """Reads the segments before the first scan into ``cost``: (where the scan data starts, each
    component's (h, v) sampling factors), or None when the markers or metadata pass a limit."""
    pos, n = 2, len(data)
    components: list[tuple[int, int]] = []
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            cost.damaged.append("bytes between JPEG segments")
            break
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker == 0xD9:
            break
        (length,) = struct.unpack_from(">H", data, pos + 2)
        cost.markers += 1
        if cost.markers > limits.max_markers:
            return None
        if marker == 0xDA:  # start of scan: the entropy-coded data begins here
            break
        body = data[pos + 4:pos + 2 + length]
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            cost.metadata += len(body)
            if marker == 0xE1 and body.startswith(b"Exif"):
                cost.exif_segments += 1
            if cost.metadata > limits.max_metadata or cost.exif_segments > limits.max_exif_segments:
                return None
        elif marker in _SOF and len(body) >= 6:
            cost.progressive = marker in _PROGRESSIVE
            cost.height, cost.width = struct.unpack_from(">HH", body, 1)
            count = body[5]
            components = [(body[6 + 3 * i + 1] >> 4, body[6 + 3 * i + 1] & 15)
                          for i in range(count) if 6 + 3 * i + 2 < len(body)]
        pos += 2 + length
    return pos, components


def _jpeg_memory(cost: DecodeCost, components: list[tuple[int, int]], draft_target: int | None) -> None:
    """The bytes that decoding needs, at the draft scale Pillow will use."""
    width, height = cost.width, cost.height
    cost.draft_scale = _draft_scale(width, height, draft_target) if draft_target else 1
    scale = cost.draft_scale
    hmax = max((h for h, _ in components), default=1) or 1
    vmax = max((v for _, v in components), default=1) or 1
    coefficients = 0
    if cost.progressive or cost.scans > 1:
        # Multi-scan JPEGs keep every DCT coefficient of the whole image (2 bytes each), at full
        # size whatever the output scale: this is what made an 8000² progressive file cost 370 MB.
        for h, v in components:
            blocks_w = -(-width * max(h, 1) // (hmax * 8))
            blocks_h = -(-height * max(v, 1) // (vmax * 8))
            coefficients += blocks_w * blocks_h * 128
    out_w, out_h = -(-width // scale), -(-height // scale)
    cost.bytes_needed = _decode_memory(out_w, out_h, _RGB_BYTES, coefficients)


# ---------------------------------------------------------------- PNG

_PNG_BYTES = {0: 1, 2: 4, 3: 1, 4: 4, 6: 4}  # colour type -> Pillow bytes per pixel (8-bit)


def _png(data: bytes, cost: DecodeCost, limits: DecodeLimits) -> None:
    pos, n = 8, len(data)
    colour, depth = 2, 8
    while pos + 8 <= n:
        length, kind = struct.unpack_from(">I4s", data, pos)
        cost.markers += 1
        if cost.markers > limits.max_markers * 50:  # IDAT chunks of a few KB each are common
            return
        if kind == b"IHDR" and length >= 13:
            cost.width, cost.height, depth, colour = struct.unpack_from(">IIBB", data, pos + 8)
        elif kind in (b"tEXt", b"zTXt", b"iTXt", b"iCCP", b"eXIf"):
            cost.metadata += length
            if cost.metadata > limits.max_metadata:
                return
        elif kind == b"acTL" and length >= 8:
            (cost.frames,) = struct.unpack_from(">I", data, pos + 8)
        elif kind == b"IEND":
            break
        pos += 12 + length
    per_pixel = _PNG_BYTES.get(colour, 4)
    if colour == 0 and depth == 16:
        per_pixel = 4  # Pillow reads 16-bit grey as I;16 (2) or I (4); the larger
    cost.bytes_needed = _decode_memory(cost.width, cost.height, per_pixel)


# ---------------------------------------------------------------- GIF


def _gif(data: bytes, cost: DecodeCost, limits: DecodeLimits) -> None:
    n = len(data)
    if n < 13:
        return
    cost.width, cost.height, flags = struct.unpack_from("<HHB", data, 6)
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    while pos < n:
        block = data[pos]
        cost.markers += 1
        if cost.markers > limits.max_markers:
            return
        if block == 0x2C:  # the first image: what is decoded
            if pos + 10 <= n:
                w, h = struct.unpack_from("<HH", data, pos + 5)
                cost.width, cost.height = max(cost.width, w), max(cost.height, h)
            break
        if block != 0x21 or pos + 2 > n:
            cost.damaged.append("GIF blocks")
            break
        label, pos = data[pos + 1], pos + 2
        while pos < n and data[pos]:  # sub-blocks of at most 255 bytes
            if label in (0xFE, 0xFF):
                cost.metadata += data[pos]
            pos += data[pos] + 1
            cost.markers += 1
            if cost.markers > limits.max_markers * 50 or cost.metadata > limits.max_metadata:
                return
        pos += 1
    cost.bytes_needed = _decode_memory(cost.width, cost.height, 1 + _RGB_BYTES)  # P, then RGBA/RGB


# ---------------------------------------------------------------- WebP


def _webp(data: bytes, cost: DecodeCost, limits: DecodeLimits) -> None:
    pos, n = 12, len(data)
    animated = False
    while pos + 8 <= n:
        kind, length = struct.unpack_from("<4sI", data, pos)
        body = data[pos + 8:pos + 8 + min(length, 32)]
        cost.markers += 1
        if cost.markers > limits.max_markers:
            return
        if kind == b"VP8X" and len(body) >= 10:
            animated = bool(body[0] & 0x02)
            cost.width = 1 + int.from_bytes(body[4:7], "little")
            cost.height = 1 + int.from_bytes(body[7:10], "little")
        elif kind == b"VP8 " and len(body) >= 10 and not cost.width:
            w, h = struct.unpack_from("<HH", body, 6)
            cost.width, cost.height = w & 0x3FFF, h & 0x3FFF
        elif kind == b"VP8L" and len(body) >= 5 and not cost.width:
            bits = int.from_bytes(body[1:5], "little")
            cost.width, cost.height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        elif kind == b"ANMF":
            cost.frames += 1 if cost.markers > 1 else 0
        elif kind in (b"EXIF", b"XMP ", b"ICCP"):
            cost.metadata += length
            if cost.metadata > limits.max_metadata:
                return
        pos += 8 + length + (length & 1)
    # libwebp's RGBA output and its working rows, Pillow's copy of it (measured: 14.5 bytes per
    # pixel at 6000², with the RGB copy); an animation adds the decoder's canvas.
    cost.bytes_needed = _decode_memory(cost.width, cost.height, 3 * _RGB_BYTES, 0)
    if animated:
        cost.bytes_needed += 2 * cost.width * cost.height * _RGB_BYTES


# ---------------------------------------------------------------- BMP


def _bmp(data: bytes, cost: DecodeCost, _limits: DecodeLimits) -> None:
    if len(data) < 30:
        return
    (header,) = struct.unpack_from("<I", data, 14)
    if header == 12:
        cost.width, cost.height, _planes, bits = struct.unpack_from("<HHHH", data, 18)
        compression = 0
    elif len(data) >= 34:
        cost.width, height, _planes, bits, compression = struct.unpack_from("<iiHHI", data, 18)
        cost.height = abs(height)
        cost.width = abs(cost.width)
    else:
        return
    cost.rle = compression in (1, 2)
    cost.bytes_needed = _decode_memory(cost.width, cost.height, 1 if bits <= 8 else _RGB_BYTES)


# ---------------------------------------------------------------- TIFF

_TIFF_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4,
                   16: 8, 17: 8, 18: 8}
_TIFF_METADATA = {700, 33723, 34377, 34665, 34675, 37724, 270, 305, 315}


def _tiff_value(order: str, kind: int, inline: bytes) -> int:
    if kind == 3:
        return struct.unpack(order + "H", inline[:2])[0]
    if kind in (4, 13):
        return struct.unpack(order + "I", inline[:4])[0]
    if kind in (16, 18) and len(inline) >= 8:
        return struct.unpack(order + "Q", inline[:8])[0]
    return inline[0] if inline else 0


def _tiff(data: bytes, cost: DecodeCost, limits: DecodeLimits) -> None:
    order = "<" if data[:2] == b"II" else ">"
    big = data[2:4] in (b"+\x00", b"\x00+")
    if big:
        (offset,) = struct.unpack_from(order + "Q", data, 8)
        (count,) = struct.unpack_from(order + "Q", data, offset) if offset + 8 <= len(data) else (0,)
        entry, start, inline_size = 20, offset + 8, 8
    else:
        (offset,) = struct.unpack_from(order + "I", data, 4)
        (count,) = struct.unpack_from(order + "H", data, offset) if offset + 2 <= len(data) else (0,)
        entry, start, inline_size = 12, offset + 2, 4
    cost.markers = count
    if count > limits.max_markers:
        return
    samples, bits = 1, 8
    for i in range(count):
        at = start + i * entry
        if at + entry > len(data):
            cost.damaged.append("TIFF directory")
            break
        if big:
            tag, kind, values = struct.unpack_from(order + "HHQ", data, at)
            inline = data[at + 12:at + 20]
        else:
            tag, kind, values = struct.unpack_from(order + "HHI", data, at)
            inline = data[at + 8:at + 12]
        size = values * _TIFF_TYPE_SIZE.get(kind, 1)
        if tag == 256:
            cost.width = _tiff_value(order, kind, inline)
        elif tag == 257:
            cost.height = _tiff_value(order, kind, inline)
        elif tag == 258:
            bits = 8 if size > inline_size else _tiff_value(order, kind, inline)
        elif tag == 277:
            samples = _tiff_value(order, kind, inline)
        elif tag in (273, 324):  # strip or tile offsets: one entry per strip or tile
            cost.strips = max(cost.strips, values)
        elif tag in _TIFF_METADATA:
            cost.metadata += size
        else:
            # Pillow reads every tag's values into Python objects when it opens the file.
            cost.metadata += size if size > 4096 else 0
    per_pixel = 4 if samples >= 2 or bits > 8 else 1
    # Pillow's per-strip decoder state and the tuples of offsets and byte counts.
    cost.bytes_needed = _decode_memory(cost.width, cost.height, per_pixel, cost.strips * 200)


_READERS = {"PNG": _png, "GIF": _gif, "WEBP": _webp, "BMP": _bmp, "TIFF": _tiff}


def estimate(data: bytes, limits: DecodeLimits = DecodeLimits(), draft_target: int | None = None) -> DecodeCost:
    """The cost of decoding ``data``, read from its structure; never raises.

    ``draft_target``: a JPEG will be decoded at the largest reduction that keeps both sides at least
    this many pixels (``Image.draft``), which the estimate takes into account. A structure that
    cannot be followed is recorded in ``damaged`` (the decoder then says what is wrong)."""
    cost = DecodeCost(sniff(data[:64]))
    try:
        if cost.format == "JPEG":
            _jpeg(data, cost, limits, draft_target)
        elif cost.format in _READERS:
            _READERS[cost.format](data, cost, limits)
    except (struct.error, IndexError, ValueError, OverflowError) as exc:
        cost.damaged.append(f"{cost.format} structure ({type(exc).__name__})")
    return cost


def over_limit(cost: DecodeCost, limits: DecodeLimits = DecodeLimits()) -> tuple[str, int, int] | None:
    """The first limit ``cost`` passes, as (what, found, limit); None when it is within all."""
    checks = (
        ("scans", cost.scans, limits.max_scans),
        ("strips", cost.strips, limits.max_strips),
        ("exif_segments", cost.exif_segments, limits.max_exif_segments),
        ("markers", cost.markers, limits.max_markers * (50 if cost.format in ("PNG", "GIF") else 1)),
        ("metadata", cost.metadata, limits.max_metadata),
        ("rle_pixels", cost.pixels if cost.rle else 0, limits.max_rle_pixels),
        ("bytes", cost.bytes_needed, limits.max_bytes),
    )
    for what, found, limit in checks:
        if found > limit:
            return what, found, limit
    return None
