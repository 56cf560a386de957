"""One image loader for uploads (bytes) and files.

Accepts JPEG, PNG, WebP, BMP, TIFF and GIF (first frame), applies the EXIF orientation and turns
every PIL mode into RGB (alpha composited on white, 16-bit and float scaled, CMYK converted).
Everything else is refused with an ``ImageLoadError`` that names the file and says what to do:
empty, truncated or corrupt files, documents (text, PDF, SVG), zero-size images and images over
``MAX_PIXELS`` (decompression bombs). ``load_images`` keeps going past bad files.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageLoadError

#: Largest accepted image, in pixels (about 8000 x 8000). Far larger than any photo a person
#: uploads, far smaller than what would exhaust memory when decoded.
MAX_PIXELS = 64_000_000

ACCEPTED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP", "BMP", "DIB", "TIFF", "GIF"}
EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")
_HELP = "use a JPEG, PNG, WebP, BMP, TIFF or GIF photo"

ImageSource = Union[bytes, bytearray, str, Path, BinaryIO]


def _sniff_non_image(head: bytes) -> str | None:
    """Say what a file that is not an image looks like, for the error message."""
    stripped = head.lstrip()
    if stripped.startswith(b"%PDF"):
        return "a PDF document"
    lower = stripped[:512].lower()
    if lower.startswith(b"<svg") or (b"<svg" in lower and lower.startswith((b"<?xml", b"<!doctype"))):
        return "an SVG drawing (vector images are not supported; export it as PNG)"
    if lower.startswith((b"<!doctype html", b"<html")):
        return "an HTML page"
    try:
        head.decode("utf-8")
        return "a text file"
    except UnicodeDecodeError:
        return None


def _to_rgb(image: Image.Image) -> Image.Image:
    """Convert any PIL mode to RGB the way a person would expect to see it."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        # PIL's own convert clips 16-bit and float values at 255; scale them instead.
        array = np.asarray(image, dtype=np.float64)
        top = array.max() if array.size else 0.0
        if mode == "F" and top <= 1.0:
            scale = 255.0
        elif top <= 255:
            scale = 1.0
        elif top <= 65535:
            scale = 255.0 / 65535.0
        else:
            scale = 255.0 / top
        grey = np.clip(array * scale, 0, 255).round().astype(np.uint8)
        return Image.fromarray(grey, mode="L").convert("RGB")
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode == "P" and "transparency" in image.info) or (mode in ("L", "RGB") and "transparency" in image.info)
    if has_alpha:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def load_image(source: ImageSource, name: str | None = None) -> Image.Image:
    """Read one image from bytes, a path or a binary file object, as an RGB PIL image.

    ``name`` is used in error messages (defaults to the path's name, or 'upload').
    Raises ``ImageLoadError`` with a message that names the file and the remedy.
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        name = name or path.name
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ImageLoadError(name, f"no such file ({path})") from None
        except IsADirectoryError:
            raise ImageLoadError(name, "is a folder, not an image file") from None
        except OSError as exc:
            raise ImageLoadError(name, f"cannot be read ({exc.strerror or exc})") from None
    elif isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        data = source.read()
        name = name or getattr(source, "name", None)
    name = name or "upload"

    if not data:
        raise ImageLoadError(name, f"the file is empty (0 bytes); {_HELP}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError):
        what = _sniff_non_image(data[:2048])
        if what:
            raise ImageLoadError(name, f"is {what}, not an image; {_HELP}") from None
        raise ImageLoadError(name, f"is not a readable image (unknown or corrupt format); {_HELP}") from None

    if image.format not in ACCEPTED_FORMATS:
        raise ImageLoadError(name, f"{image.format} images are not supported; {_HELP}")
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageLoadError(name, f"has zero size ({width}x{height} pixels)")
    if width * height > MAX_PIXELS:
        raise ImageLoadError(
            name, f"is {width}x{height} pixels, over the limit of {MAX_PIXELS:,} pixels "
                  "(a possible decompression bomb); downscale it first")
    try:
        image.seek(0)  # GIF/TIFF/WebP animations: the first frame
        image.load()
        image = ImageOps.exif_transpose(image)
        rgb = _to_rgb(image)
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        detail = "truncated" if "truncated" in str(exc).lower() else "corrupt"
        raise ImageLoadError(name, f"the image data is {detail} and cannot be decoded; "
                                   "re-export or re-download the file") from None
    rgb.load()
    return rgb


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
