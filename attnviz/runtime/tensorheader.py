"""The header of a ``.safetensors`` file, read and checked without reading a single tensor.

A safetensors file is 8 bytes (little-endian header length), a JSON header naming each tensor's
dtype, shape and byte range, then the data. Weights files and class profiles are both validated
from this header (shapes, dtypes, what they would cost) before anything is built from them, so a
file of a few bytes that declares a huge tensor, a huge header or offsets past its end is refused
at the cost of reading the header. One home for the format, shared by ``zoo.weights`` and
``profiles``; it imports neither torch nor numpy.
"""
from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field
from pathlib import Path

#: Bytes per element of each safetensors dtype.
DTYPE_BYTES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2,
               "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8}
FLOAT_DTYPES = frozenset({"F8_E5M2", "F8_E4M3", "F16", "BF16", "F32", "F64"})
#: safetensors' own ceiling on the header (100 MB); callers pass a smaller one.
MAX_HEADER_BYTES = 100_000_000


class HeaderError(ValueError):
    """The header is not a valid safetensors header; the message says why (callers name the file)."""


@dataclass(frozen=True)
class TensorInfo:
    dtype: str
    shape: tuple[int, ...]
    start: int
    end: int

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def is_float(self) -> bool:
        return self.dtype in FLOAT_DTYPES


@dataclass(frozen=True)
class TensorHeader:
    tensors: dict[str, TensorInfo]
    metadata: dict[str, str] = field(default_factory=dict)
    header_bytes: int = 0
    data_bytes: int = 0


def read_header(source: str | Path | bytes, max_header_bytes: int = MAX_HEADER_BYTES) -> TensorHeader:
    """The header of a safetensors file (a path, or its bytes), checked against the file's size:
    every dtype known, every shape a list of whole numbers >= 0, every byte range the size its
    shape and dtype make and inside the file. Raises HeaderError saying what is wrong."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = memoryview(source)
        total = len(data)
        prefix = bytes(data[:8])
    else:
        path = Path(source)
        total = path.stat().st_size
        with open(path, "rb") as fh:
            prefix = fh.read(8)
        data = None
    if len(prefix) < 8:
        raise HeaderError(f"{total} bytes is too short for a safetensors file")
    (length,) = struct.unpack("<Q", prefix)
    if length > max_header_bytes:
        raise HeaderError(f"its header claims {length:,} bytes, over the limit of {max_header_bytes:,}")
    if 8 + length > total:
        raise HeaderError(f"its header claims {length:,} bytes but the file has {total:,}")
    if data is not None:
        raw = bytes(data[8:8 + length])
    else:
        with open(path, "rb") as fh:
            fh.seek(8)
            raw = fh.read(length)
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HeaderError(f"its header is not JSON ({exc.__class__.__name__})") from None
    if not isinstance(header, dict):
        raise HeaderError("its header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise HeaderError("its __metadata__ is not a map of strings")
    size = total - 8 - length
    tensors = {}
    for name, entry in header.items():
        tensors[name] = _tensor(name, entry, size)
    return TensorHeader(tensors, metadata, length, size)


def _tensor(name: str, entry, size: int) -> TensorInfo:
    if not isinstance(entry, dict):
        raise HeaderError(f"tensor {name!r} has no dtype, shape and offsets")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if dtype not in DTYPE_BYTES:
        raise HeaderError(f"tensor {name!r} has unknown dtype {dtype!r}")
    if (not isinstance(shape, list) or len(shape) > 16
            or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)):
        raise HeaderError(f"tensor {name!r} has shape {shape!r}, not a list of whole numbers >= 0")
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)):
        raise HeaderError(f"tensor {name!r} has data_offsets {offsets!r}, not [start, end]")
    start, end = offsets
    need = math.prod(shape) * DTYPE_BYTES[dtype]
    if not 0 <= start <= end or end - start != need:
        raise HeaderError(f"tensor {name!r} of shape {tuple(shape)} ({dtype}) needs {need:,} bytes, "
                          f"its offsets give {end - start:,}")
    if end > size:
        raise HeaderError(f"tensor {name!r} ends at byte {end:,}, past the end of the data ({size:,} bytes)")
    return TensorInfo(dtype, tuple(shape), start, end)
