"""Byte mutations of image files for the decoder fuzz tests (hypothesis strategies).

A case is a seed file (``hostile.seed_files``: every format Pillow writes, made by Pillow) and up
to eight mutations: a bit flip, a byte or a 16/32-bit word set to a boundary value, bytes
inserted or deleted, the file cut short, or a slice repeated (marker and chunk floods). Positions
are drawn over the whole file; hypothesis shrinks them towards the headers, where a failing case is
easiest to read. Used by tests/images/test_decode_fuzz.py and bench/fuzz_decode.py.
"""
from __future__ import annotations

import struct

from hypothesis import strategies as st

BOUNDARY_BYTES = (0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF)
BOUNDARY_WORDS = (0, 1, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)
OPERATIONS = ("flip", "byte", "word16", "word32", "insert", "delete", "truncate", "repeat")


def apply(data: bytes, operations: list[tuple]) -> bytes:
    """``data`` with each (operation, position, argument) applied in turn; positions are taken
    modulo the current length, so every drawn case is valid whatever the earlier mutations did."""
    out = bytearray(data)
    for op, pos, arg in operations:
        if not out:
            break
        pos %= len(out)
        if op == "flip":
            out[pos] ^= 1 << (arg % 8)
        elif op == "byte":
            out[pos] = BOUNDARY_BYTES[arg % len(BOUNDARY_BYTES)]
        elif op in ("word16", "word32"):
            size, fmt = (2, "H") if op == "word16" else (4, "I")
            value = BOUNDARY_WORDS[arg % len(BOUNDARY_WORDS)] & ((1 << (8 * size)) - 1)
            order = "<" if arg & 0x100 else ">"
            out[pos:pos + size] = struct.pack(order + fmt, value)[: len(out) - pos]
        elif op == "insert":
            out[pos:pos] = bytes([BOUNDARY_BYTES[arg % len(BOUNDARY_BYTES)]]) * (1 + arg % 16)
        elif op == "delete":
            del out[pos:pos + 1 + arg % 64]
        elif op == "truncate":
            del out[max(1, pos):]
        elif op == "repeat":
            piece = bytes(out[pos:pos + 1 + arg % 64])
            out[pos:pos] = piece * (1 + arg % 32)
    return bytes(out)


def operations() -> st.SearchStrategy:
    one = st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 1 << 16), st.integers(0, 1 << 10))
    return st.lists(one, min_size=1, max_size=8)


@st.composite
def mutated(draw, seeds: dict[str, bytes]) -> tuple[str, bytes]:
    """(seed name, mutated bytes) from ``seeds``."""
    name = draw(st.sampled_from(sorted(seeds)))
    return name, apply(seeds[name], draw(operations()))
