"""One image loader for uploads (bytes) and files.

Accepts JPEG, PNG, WebP, BMP, TIFF and GIF (first frame), applies the EXIF orientation and turns
every PIL mode into RGB (alpha composited on white, 16-bit and float scaled, CMYK converted).
Everything else is refused with an ``ImageLoadError`` that names the file and says what to do:
empty, truncated or corrupt files, documents (text, PDF, SVG), zero-size images and images over
``MAX_PIXELS`` (decompression bombs). ``load_images`` keeps going past bad files.

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
from typing import BinaryIO, Iterable, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageLoadError
from .i18n import N_, _
from .memory import MemoryBudget, MiB, return_freed_memory

#: Largest accepted image, in pixels (about 8000 x 8000). Far larger than any photo a person
#: uploads, far smaller than what would exhaust memory when decoded.
MAX_PIXELS = 64_000_000

ACCEPTED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP", "BMP", "DIB", "TIFF", "GIF"}
EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")
_HELP = N_("use a JPEG, PNG, WebP, BMP, TIFF or GIF photo")

ImageSource = Union[bytes, bytearray, str, Path, BinaryIO]


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
    low, top = image.getextrema()
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


def _pixel_limit(name: str, detail: str) -> ImageLoadError:
    return ImageLoadError(name, _("is {detail}, over the limit of {limit:,} pixels "
                                  "(a possible decompression bomb); downscale it first").format(detail=detail,
                                                                                                 limit=MAX_PIXELS))


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


def _open(data: bytes, name: str) -> Image.Image:
    """Open (read the header of) an image and check it before any pixel is decoded."""
    if not data:
        raise ImageLoadError(name, _("the file is empty (0 bytes); {help}").format(help=_(_HELP)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        # Pillow's own guard (about 179 megapixels) fires before ours could read the size.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        raise _pixel_limit(name, _("{count:,} pixels").format(count=int(found.group(1))) if found
                           else _("too many pixels")) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        what = _sniff_non_image(data[:2048])
        if what:
            raise ImageLoadError(name, _("is {what}, not an image; {help}").format(what=what, help=_(_HELP))) from None
        raise ImageLoadError(name, _("is not a readable image (unknown or corrupt format); {help}").format(
            help=_(_HELP))) from None

    if image.format not in ACCEPTED_FORMATS:
        raise ImageLoadError(name, _("{format} images are not supported; {help}").format(format=image.format,
                                                                                           help=_(_HELP)))
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageLoadError(name, _("has zero size ({size})").format(size=_dimensions(width, height)))
    if width * height > MAX_PIXELS:
        raise _pixel_limit(name, _dimensions(width, height))
    return image


def _decode(image: Image.Image, name: str) -> Image.Image:
    """Decode the first frame, apply the EXIF orientation and convert to RGB."""
    try:
        image.seek(0)  # GIF/TIFF/WebP animations: the first frame
        image.load()
        image = ImageOps.exif_transpose(image)
        rgb = _to_rgb(image)
        rgb.load()
    except Image.DecompressionBombError:
        raise _pixel_limit(name, _dimensions(*image.size)) from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        if "truncated" in str(exc).lower():
            reason = _("the image data is truncated and cannot be decoded; re-export or re-download the file")
        else:
            reason = _("the image data is corrupt and cannot be decoded; re-export or re-download the file")
        raise ImageLoadError(name, reason) from None
    return rgb


def load_image(source: ImageSource, name: str | None = None) -> Image.Image:
    """Read one image from bytes, a path or a binary file object, as an RGB PIL image.

    ``name`` is used in error messages (defaults to the path's name, or 'upload').
    Raises ``ImageLoadError`` with a message that names the file and the remedy.
    """
    data, name = _read_source(source, name)
    return _decode(_open(data, name), name)


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
    """

    model: Image.Image
    display: Image.Image
    size: tuple[int, int]


def _decode_bytes(image: Image.Image) -> int:
    """Memory a decode may need at once: the decoded frame, its RGB copy and a margin."""
    width, height = image.size
    # Pillow stores RGB (and every mode of 3 or 4 bands) in 4 bytes per pixel.
    per_pixel = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2}.get(image.mode, 4)
    return width * height * (per_pixel + 4) + 32 * MiB


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


def load_views(source: ImageSource, name: str | None = None) -> ImageViews:
    """Decode an image into its bounded ``ImageViews``; the full decode is freed before returning.

    The same checks and messages as ``load_image``. JPEGs are decoded at a reduced scale when they
    are much larger than the views (libjpeg's DCT scaling); other formats are decoded whole under
    ``DECODE_BUDGET``, so concurrent decodes cannot add up beyond it.
    """
    data, name = _read_source(source, name)
    image = _open(data, name)
    if image.format in ("JPEG", "MPO"):
        target = max(MODEL_VIEW_SIDE, DISPLAY_SIDE)
        image.draft(None, (target, target))  # keeps both sides >= target
    try:
        with DECODE_BUDGET.reserve(_decode_bytes(image)):
            rgb = _decode(image, name)
            views = ImageViews(model=model_view(rgb), display=display_view(rgb), size=rgb.size)
            del rgb, image
    finally:
        return_freed_memory()
    return views


@dataclass
class LoadedImage:
    """Outcome of loading one item of a batch: an image, or the message saying why not."""

    name: str
    image: Image.Image | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.image is not None


def load_images(items: Iterable[tuple[str, ImageSource]]) -> list[LoadedImage]:
    """Load (name, source) pairs; a bad item gets its message and the others still load."""
    results = []
    for name, source in items:
        try:
            results.append(LoadedImage(name=name, image=load_image(source, name)))
        except ImageLoadError as exc:
            results.append(LoadedImage(name=name, error=str(exc)))
    return results


def list_image_files(folder: str | Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name."""
    folder = Path(folder)
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in EXTENSIONS)
