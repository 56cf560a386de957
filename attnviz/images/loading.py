"""One image loader for uploads (bytes) and files.

Accepts JPEG, PNG, WebP, BMP, TIFF and GIF (first frame), recognised by content whatever the
file's name, applies the EXIF orientation (a damaged or invalid one is ignored, with a note) and
turns every PIL mode into RGB (alpha composited on white, 16-bit and float scaled, CMYK converted).
Everything else is refused with an ``ImageLoadError`` that names the file and says what to do:
empty, truncated, corrupt or damaged files, other formats (DDS, ICO, ...), documents (text, PDF,
SVG), zero-size images, images over ``MAX_PIXELS`` (decompression bombs) and files whose structure
costs more than ``DECODE_LIMITS`` allow (``attnviz.images.decode_cost``). No exception of a decoder escapes:
any failure on hostile bytes is that file's refusal. ``load_images`` keeps going past bad files.

``load_views`` is the server's loader: it keeps two copies of bounded size (what the models see,
what the page shows) instead of the full decode, so memory follows what is shown and computed,
never the dimensions a file declares.
"""
from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from collections.abc import Iterable

import numpy as np
from PIL import Image

from ..errors import ImageLoadError
from ..i18n import N_, _
from .decode_cost import DecodeCost, DecodeLimits, estimate, over_limit
from ..runtime.memory import MemoryBudget, MiB, return_freed_memory

#: What one decode may cost (pixels, memory, scans, markers, metadata, strips): checked from the
#: file's structure before any pixel is decoded (``attnviz.images.decode_cost``).
DECODE_LIMITS = DecodeLimits()
#: Largest accepted image, in pixels (about 8000 x 8000). Far larger than any photo a person
#: uploads, far smaller than what would exhaust memory when decoded.
MAX_PIXELS = DECODE_LIMITS.max_pixels

ACCEPTED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP", "BMP", "DIB", "TIFF", "GIF"}
EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")
_HELP = N_("use a JPEG, PNG, WebP, BMP, TIFF or GIF photo")

ImageSource = bytes | bytearray | str | Path | BinaryIO


def _sniff_non_image(head: bytes) -> str | None:
    """Say what a file that is not an image looks like, for the error message."""
    stripped = head.lstrip()
    if stripped.startswith(b"%PDF"):
        return _("a PDF document")
    lower = stripped[:512].lower()
    if lower.startswith(b"<svg") or (b"<svg" in lower and lower.startswith((b"<?xml", b"<!doctype"))):
        return _("an SVG drawing (vector images are not supported; export it as PNG)")
    if lower.startswith((b"<!doctype html", b"<html")):
        return _("an HTML page")
    try:
        head.decode("utf-8")
        return _("a text file")
    except UnicodeDecodeError:
        return None


_HIGH_DEPTH = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")
_BAND_ROWS = 256  # rows converted at a time: a mode change never holds two full-size copies


def _high_depth_scale(image: Image.Image) -> float:
    """Factor that maps a 16-bit, 32-bit or float image onto 0..255 (PIL's own convert clips)."""
    top = image.getextrema()[1]
    if isinstance(top, tuple):
        raise ValueError(f"_high_depth_scale: a {image.mode} image of {len(image.getbands())} bands (one expected)")
    top = float(top or 0.0)
    if image.mode == "F" and top <= 1.0:
        return 255.0
    if top <= 255:
        return 1.0
    if top <= 65535:
        return 255.0 / 65535.0
    return 255.0 / top


def _has_alpha(image: Image.Image) -> bool:
    mode = image.mode
    return mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode in ("P", "L", "RGB") and "transparency" in image.info)


def _band_to_rgb(band: Image.Image, alpha: bool, scale: float | None) -> Image.Image:
    if scale is not None:
        grey = np.clip(np.asarray(band, dtype=np.float32) * scale, 0, 255).round().astype(np.uint8)
        return Image.fromarray(grey, mode="L").convert("RGB")
    if alpha:
        rgba = band.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return band.convert("RGB")


def _to_rgb(image: Image.Image) -> Image.Image:
    """Convert any PIL mode to RGB the way a person would expect to see it.

    16-bit and float values are scaled (not clipped), alpha is composited on white. The work goes
    in bands of rows, so converting a large image needs the RGB result plus one band, not two or
    three full-size intermediates (RGBA, the white canvas, the composite).
    """
    if image.mode == "RGB" and "transparency" not in image.info:
        return image
    scale = _high_depth_scale(image) if image.mode in _HIGH_DEPTH else None
    alpha = _has_alpha(image)
    width, height = image.size
    if height <= _BAND_ROWS:
        return _band_to_rgb(image, alpha, scale)
    out = Image.new("RGB", image.size)
    for top in range(0, height, _BAND_ROWS):
        box = (0, top, width, min(top + _BAND_ROWS, height))
        out.paste(_band_to_rgb(image.crop(box), alpha, scale), box[:2])
    return out


def _pixel_limit(name: str, detail: str, limit: int = MAX_PIXELS) -> ImageLoadError:
    return ImageLoadError(name, _("is {detail}, over the limit of {limit:,} pixels "
                                  "(a possible decompression bomb); downscale it first").format(detail=detail,
                                                                                                 limit=limit))


def _dimensions(width: int, height: int) -> str:
    return _("{width}x{height} pixels").format(width=width, height=height)


def _read_source(source: ImageSource, name: str | None) -> tuple[bytes, str]:
    if isinstance(source, (str, Path)):
        path = Path(source)
        name = name or path.name
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ImageLoadError(name, _("no such file ({path})").format(path=path)) from None
        except IsADirectoryError:
            raise ImageLoadError(name, _("is a folder, not an image file")) from None
        except OSError as exc:
            raise ImageLoadError(name, _("cannot be read ({error})").format(error=exc.strerror or exc)) from None
    elif isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        data = source.read()
        name = name or getattr(source, "name", None)
    return data, name or "upload"


#: Pillow's plugins for each accepted format (found by content, ``imagecost.sniff``): a file is
#: only ever parsed by the plugin of the format its bytes are, never by DDS, ICO or the others.
_PLUGINS = {"JPEG": ["JPEG", "MPO"], "PNG": ["PNG"], "GIF": ["GIF"], "WEBP": ["WEBP"], "BMP": ["BMP"],
            "TIFF": ["TIFF"]}
_RESAVE = N_("re-save it as an ordinary JPEG or PNG")


def _size_text(nbytes: int) -> str:
    return f"{nbytes / MiB:,.0f} MB" if nbytes >= MiB else f"{nbytes / 1024:,.1f} KB"


def too_costly(name: str, detail: str, remedy: str | None = None) -> ImageLoadError:
    """The refusal of a file whose decoding would cost more than a decode may."""
    return ImageLoadError(name, _("too costly to decode: {detail}; {remedy}").format(
        detail=detail, remedy=remedy or _(_RESAVE)))


class MemoryRefusal(ImageLoadError):
    """The refusal of a file whose decode ran out of the memory it may use: a decoder process that
    saw it starts afresh (``exhausted``)."""

    exhausted = True


def memory_refusal(name: str) -> MemoryRefusal:
    """The refusal of a file whose decode ran out of the memory it may use."""
    refusal = too_costly(name, _("it needs more memory than a decode may use"), _("downscale it first"))
    return MemoryRefusal(refusal.name, refusal.reason)


def _cost_refusal(name: str, what: str, found: int, limit: int) -> ImageLoadError:
    if what == "bytes":
        return too_costly(name, _("decoding it would need about {size} of memory, over the limit of {limit}").format(
            size=_size_text(found), limit=_size_text(limit)), _("downscale it first"))
    detail = {
        "markers": _("{found:,} markers, chunks or tags, over the limit of {limit:,}"),
        "metadata": _("{found:,} bytes of metadata (EXIF, XMP, ICC, comments), over the limit of {limit:,}"),
        "exif_segments": _("{found:,} EXIF blocks, over the limit of {limit:,}"),
        "scans": _("{found:,} progressive scans, over the limit of {limit:,}"),
        "strips": _("{found:,} TIFF strips or tiles, over the limit of {limit:,}"),
        "rle_pixels": _("a run-length-encoded BMP of {found:,} pixels, over the limit of {limit:,}"),
    }[what]
    return too_costly(name, detail.format(found=found, limit=limit))


def inspect_cost(data: bytes, name: str, draft_target: int | None = None,
                 limits: DecodeLimits = DECODE_LIMITS) -> DecodeCost:
    """What decoding ``data`` will cost, read from its structure (``attnviz.images.decode_cost``); raises
    the file's ``ImageLoadError`` when it is empty, no image, a format the app does not accept,
    declares too many pixels, or costs more than ``limits`` allow."""
    if not data:
        raise ImageLoadError(name, _("the file is empty (0 bytes); {help}").format(help=_(_HELP)))
    cost = estimate(data, limits, draft_target)
    accepted_format(data, name, cost)
    if cost.pixels > limits.max_pixels:
        # Beyond Pillow's own bomb limit the message has always given the count (Pillow's error
        # did); below it, the dimensions.
        bomb = Image.MAX_IMAGE_PIXELS
        detail = (_("{count:,} pixels").format(count=cost.pixels) if bomb is not None and cost.pixels > 2 * bomb
                  else _dimensions(cost.width, cost.height))
        raise _pixel_limit(name, detail, limits.max_pixels)
    over = over_limit(cost, limits)
    if over is not None:
        raise _cost_refusal(name, *over)
    return cost


def accepted_format(data: bytes, name: str, cost: DecodeCost) -> str:
    """The format ``cost`` found in ``data`` when the app accepts it; else the file's
    ``ImageLoadError`` (no image, or a format the app does not accept)."""
    if cost.format is None:
        what = _sniff_non_image(data[:2048])
        if what:
            raise ImageLoadError(name, _("is {what}, not an image; {help}").format(what=what, help=_(_HELP)))
        raise ImageLoadError(name, _("is not a readable image (unknown or corrupt format); {help}").format(
            help=_(_HELP)))
    if cost.format not in _PLUGINS:
        raise ImageLoadError(name, _("{format} images are not supported; {help}").format(format=cost.format,
                                                                                           help=_(_HELP)))
    return cost.format


def _damaged_headers(name: str, fmt: str) -> ImageLoadError:
    return ImageLoadError(name, _("damaged file: this {format} image is truncated or corrupt and its headers "
                                  "cannot be read; re-export or re-download the file").format(format=fmt))


def _open(data: bytes, name: str, draft_target: int | None = None,
          limits: DecodeLimits = DECODE_LIMITS) -> tuple[Image.Image, DecodeCost]:
    """Open (read the header of) an image and check it before any pixel is decoded."""
    cost = inspect_cost(data, name, draft_target, limits)
    fmt = accepted_format(data, name, cost)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = Image.open(io.BytesIO(data), formats=_PLUGINS[fmt])
    except Image.DecompressionBombError as exc:
        # Pillow's own guard (about 179 megapixels) fires before ours could read the size.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        raise _pixel_limit(name, _("{count:,} pixels").format(count=int(found.group(1))) if found
                           else _("too many pixels")) from None
    except MemoryError:
        raise memory_refusal(name) from None
    except Exception:  # noqa: BLE001 - any failure of a plugin on hostile bytes is this file's refusal
        raise _damaged_headers(name, fmt) from None
    try:
        width, height = image.size
        accepted = image.format in ACCEPTED_FORMATS
    except Exception:  # noqa: BLE001
        raise _damaged_headers(name, fmt) from None
    if not accepted:
        raise ImageLoadError(name, _("{format} images are not supported; {help}").format(format=image.format,
                                                                                           help=_(_HELP)))
    if width <= 0 or height <= 0:
        raise ImageLoadError(name, _("has zero size ({size})").format(size=_dimensions(width, height)))
    if width * height > limits.max_pixels:
        raise _pixel_limit(name, _dimensions(width, height), limits.max_pixels)
    return image, cost


#: EXIF orientation value -> the transpose that shows the image upright (as ImageOps.exif_transpose).
_ORIENTATION = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
                4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
                6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90}


def _orientation(image: Image.Image, notes: list[str]) -> Image.Transpose | None:
    """The transpose the EXIF orientation asks for; a damaged or invalid one is ignored, with a note.

    Pillow's own ``exif_transpose`` also rewrites the EXIF block, which fails on malformed EXIF
    (struct.error, TypeError); only the orientation value is needed here."""
    try:
        value = image.getexif().get(0x0112)
    except Exception:  # noqa: BLE001 - damaged EXIF: the picture itself may be fine
        notes.append(_("damaged EXIF metadata: its orientation was ignored"))
        return None
    if value is None or value == 1:
        return None
    if isinstance(value, int) and value in _ORIENTATION:
        return _ORIENTATION[value]
    notes.append(_("invalid EXIF orientation ({value}): ignored").format(value=str(value)[:20]))
    return None


def _decode(image: Image.Image, name: str, notes: list[str] | None = None) -> Image.Image:
    """Decode the first frame, apply the EXIF orientation and convert to RGB. Any failure of the
    decoder is this file's ``ImageLoadError``; ``notes`` receives what was ignored (EXIF)."""
    notes = [] if notes is None else notes
    try:
        image.seek(0)  # GIF/TIFF/WebP animations: the first frame
        image.load()
        turn = _orientation(image, notes)
        rgb = _to_rgb(image)
        if turn is not None:
            rgb = rgb.transpose(turn)
        rgb.load()
    except Image.DecompressionBombError:
        raise _pixel_limit(name, _dimensions(*image.size)) from None
    except MemoryError:
        raise memory_refusal(name) from None
    except Exception as exc:  # noqa: BLE001 - any failure of a decoder on hostile bytes is this file's refusal
        if "truncated" in str(exc).lower():
            reason = _("the image data is truncated and cannot be decoded; re-export or re-download the file")
        else:
            reason = _("the image data is corrupt and cannot be decoded; re-export or re-download the file")
        raise ImageLoadError(name, reason) from None
    return rgb


def load_image(source: ImageSource, name: str | None = None, notes: list[str] | None = None) -> Image.Image:
    """Read one image from bytes, a path or a binary file object, as an RGB PIL image.

    ``name`` is used in error messages (defaults to the path's name, or 'upload'); ``notes``
    receives what was ignored (a damaged EXIF orientation).
    Raises ``ImageLoadError`` with a message that names the file and the remedy.
    """
    data, name = _read_source(source, name)
    image, _cost = _open(data, name)
    return _decode(image, name, notes)


# ---------------------------------------------------------------- bounded copies (the served app)

#: Short side of the copy the models see: enough for a 224-pixel input zoomed 2x.
MODEL_VIEW_SIDE = 512
#: The model view keeps at most this aspect ratio around the centre; centre-crop models only
#: ever see the central square, so nothing they see is lost.
MODEL_VIEW_ASPECT = 2.0
#: Longest side of the copy shown on the page.
DISPLAY_SIDE = 512
#: Thumbnails of extreme strips are letterboxed to at most this aspect ratio, so they can be shown.
DISPLAY_ASPECT = 4.0
#: Decodes running at once in this process may together reserve this much memory.
DECODE_BUDGET = MemoryBudget(768 * MiB)
_LETTERBOX = (240, 240, 240)


@dataclass
class ImageViews:
    """What a server keeps of an image: two copies of bounded size, never the full decode.

    model: the centre of the image, at most MODEL_VIEW_ASPECT : 1, short side at most
        MODEL_VIEW_SIDE (smaller images are kept as they are). A model's centre crop, and every
        zoom of the scale experiment, is cut from it.
    display: the whole image, long side at most DISPLAY_SIDE, letterboxed to DISPLAY_ASPECT : 1.
    size: the original (width, height), after the EXIF orientation.
    notes: what was ignored while decoding (a damaged EXIF orientation).
    """

    model: Image.Image
    display: Image.Image
    size: tuple[int, int]
    notes: tuple[str, ...] = ()


def model_view(image: Image.Image, side: int = MODEL_VIEW_SIDE, aspect: float = MODEL_VIEW_ASPECT) -> Image.Image:
    """The centre of ``image`` at most ``aspect`` : 1, reduced so its short side is at most ``side``."""
    width, height = image.size
    short = min(width, height)
    crop_w, crop_h = min(width, short * aspect), min(height, short * aspect)
    left, top = (width - crop_w) / 2, (height - crop_h) / 2
    factor = min(1.0, side / short)
    size = (max(1, round(crop_w * factor)), max(1, round(crop_h * factor)))
    if size == image.size:
        return image.copy()
    return image.resize(size, Image.Resampling.BICUBIC, box=(left, top, left + crop_w, top + crop_h))


def display_view(image: Image.Image, side: int = DISPLAY_SIDE, aspect: float = DISPLAY_ASPECT) -> Image.Image:
    """The whole image, long side at most ``side``, on a light canvas when it is a thin strip."""
    width, height = image.size
    factor = min(1.0, side / max(width, height))
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    thumb = image.resize(size, Image.Resampling.BICUBIC) if size != image.size else image.copy()
    long_side = max(size)
    canvas = (max(size[0], round(long_side / aspect)), max(size[1], round(long_side / aspect)))
    if canvas == size:
        return thumb
    framed = Image.new("RGB", canvas, _LETTERBOX)
    framed.paste(thumb, ((canvas[0] - size[0]) // 2, (canvas[1] - size[1]) // 2))
    return framed


def decode_views(data: bytes, name: str, limits: DecodeLimits = DECODE_LIMITS) -> tuple[ImageViews, DecodeCost]:
    """The bounded views of one image, decoded in this process without a budget (what a decoder
    process runs), with the cost read from its structure."""
    target = max(MODEL_VIEW_SIDE, DISPLAY_SIDE)
    image, cost = _open(data, name, target, limits)
    notes: list[str] = []
    try:
        if image.format in ("JPEG", "MPO"):
            image.draft(None, (target, target))  # keeps both sides >= target
        rgb = _decode(image, name, notes)
        views = ImageViews(model=model_view(rgb), display=display_view(rgb), size=rgb.size, notes=tuple(notes))
    except ImageLoadError:
        raise
    except MemoryError:
        raise memory_refusal(name) from None
    except Exception:  # noqa: BLE001 - a resize or draft failing on a hostile file refuses that file
        raise ImageLoadError(name, _("the image data is corrupt and cannot be decoded; "
                                     "re-export or re-download the file")) from None
    return views, cost


def load_views(source: ImageSource, name: str | None = None) -> ImageViews:
    """Decode an image into its bounded ``ImageViews``; the full decode is freed before returning.

    The same checks and messages as ``load_image``. JPEGs are decoded at a reduced scale when they
    are much larger than the views (libjpeg's DCT scaling); the memory a decode needs is estimated
    from the file's structure and reserved under ``DECODE_BUDGET``, so concurrent decodes in this
    process cannot add up beyond it. (The served app decodes in worker processes with enforced
    limits instead: ``attnviz.serving.decoding``.)
    """
    data, name = _read_source(source, name)
    cost = inspect_cost(data, name, draft_target=max(MODEL_VIEW_SIDE, DISPLAY_SIDE))
    try:
        with DECODE_BUDGET.reserve(cost.bytes_needed):
            views, _cost = decode_views(data, name)
    finally:
        return_freed_memory()
    return views


@dataclass(frozen=True)
class LoadedImage:
    """Outcome of loading one item of a batch: an image, or the message saying why not.

    Frozen, as is its subclass ``DecodedImage``: the app's decode cache hands one object to every
    session that uploads the same bytes."""

    name: str
    image: Image.Image | None = None
    error: str | None = None
    notes: tuple[str, ...] = ()   # what was ignored while decoding (a damaged EXIF orientation)

    @property
    def ok(self) -> bool:
        return self.image is not None

    def require_image(self) -> Image.Image:
        """The image, for an item known to be ``ok``; a ValueError naming the item otherwise."""
        if self.image is None:
            raise ValueError(f"{self.name} has no image ({self.error})")
        return self.image


def load_images(items: Iterable[tuple[str, ImageSource]]) -> list[LoadedImage]:
    """Load (name, source) pairs; a bad item gets its message and the others still load."""
    results = []
    for name, source in items:
        notes: list[str] = []
        try:
            results.append(LoadedImage(name=name, image=load_image(source, name, notes), notes=tuple(notes)))
        except ImageLoadError as exc:
            results.append(LoadedImage(name=name, error=str(exc)))
    return results


def list_image_files(folder: str | Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name."""
    folder = Path(folder)
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in EXTENSIONS)
