"""Subsets of a class-labelled sample list: the per-class limit (the first N images of every
class) and a fixed, evenly spaced subset. The one home of both, for ``attnviz evaluate``,
``attnviz profile`` / ``bundle`` (``--per-class-limit``) and the Compare page's zipped folders."""
from __future__ import annotations

from typing import TypeVar
from collections.abc import Hashable, Iterable, Sequence

Sample = TypeVar("Sample")
Label = TypeVar("Label", bound=Hashable)


def first_per_class(samples: Iterable[tuple[Sample, Label]], limit: int) -> list[tuple[Sample, Label]]:
    """The first ``limit`` (sample, class) pairs of each class, in their order (0 = all)."""
    samples = list(samples)
    if not limit:
        return samples
    taken: dict[Label, int] = {}
    kept = []
    for sample, label in samples:
        if taken.get(label, 0) < limit:
            taken[label] = taken.get(label, 0) + 1
            kept.append((sample, label))
    return kept


def evenly_spaced(samples: Sequence[Sample], limit: int) -> list[Sample]:
    """A fixed subset of ``limit`` items spread over the whole (class-sorted) list (0 = all)."""
    if not limit or limit >= len(samples):
        return list(samples)
    step = len(samples) / limit
    return [samples[int(i * step)] for i in range(limit)]
