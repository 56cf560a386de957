"""Names of gates in the papers' convention: ``SE_<stage>_<block>``, ``SK_<stage>_<block>``.

Stages are numbered as in the papers: ResNet's conv2_x (timm ``layer1``) is stage 2, blocks count
from 1, so timm's ``layer3.5.se`` is SENet's SE_4_6. EfficientNet/MobileNet ``blocks.i.j`` are
stage i + 2 (stage 1 is the stem), RegNet's ``s<i>.b<j>`` are stage i, block j as in its paper.
Anything else is numbered by depth.
"""
from __future__ import annotations

import re

# (pattern on the module path, stage offset, block offset)
_LAYOUTS = (
    (re.compile(r"(?:^|\.)layer(\d+)\.(\d+)(?:\.|$)"), 1, 1),     # ResNet family
    (re.compile(r"(?:^|\.)blocks\.(\d+)\.(\d+)(?:\.|$)"), 2, 1),  # EfficientNet / MobileNet
    (re.compile(r"(?:^|\.)s(\d+)\.b(\d+)(?:\.|$)"), 0, 0),        # RegNet
    (re.compile(r"(?:^|\.)stages\.(\d+)\.blocks\.(\d+)(?:\.|$)"), 1, 1),  # generic timm stages
)


def stage_block(module_path: str) -> tuple[int, int] | None:
    """(stage, block) in the papers' numbering, or None if the layout is not recognised."""
    for pattern, stage_offset, block_offset in _LAYOUTS:
        match = pattern.search(module_path)
        if match:
            return int(match.group(1)) + stage_offset, int(match.group(2)) + block_offset
    return None


def paper_names(entries: list[tuple[str, str]]) -> list[tuple[str, int | None, int | None]]:
    """Names for (module path, name prefix) entries given in depth order (the prefix is the
    kind's: 'SE', 'ECA', 'SK', 'SPLAT').

    Returns (name, stage, block) per entry. Two gates in one block get suffixes a, b, ...;
    unrecognised layouts are numbered by depth within their prefix (SE_1, SE_2, ...).
    """
    raw: list[tuple[str, int | None, int | None]] = []
    counters: dict[str, int] = {}
    for path, p in entries:
        sb = stage_block(path)
        if sb is None:
            counters[p] = counters.get(p, 0) + 1
            raw.append((f"{p}_{counters[p]}", None, None))
        else:
            raw.append((f"{p}_{sb[0]}_{sb[1]}", sb[0], sb[1]))
    seen: dict[str, int] = {}
    for name, _, _ in raw:
        seen[name] = seen.get(name, 0) + 1
    suffix: dict[str, int] = {}
    named = []
    for name, stage, block in raw:
        if seen[name] > 1:
            k = suffix.get(name, 0)
            suffix[name] = k + 1
            name = f"{name}{chr(ord('a') + k)}"
        named.append((name, stage, block))
    return named
