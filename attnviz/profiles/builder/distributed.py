"""Profiling across processes and machines (``torchrun``) with ``torch.distributed``.

``torchrun --nproc_per_node N -m attnviz profile ...`` starts N copies of the command; each reads
its rank from the environment torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT),
profiles its own shard of the images and, at the end, the shards' statistics are merged with
collectives so that every rank holds the result of a single-process run over all images.

Sharding is strided (rank r takes samples r, r + W, r + 2W, ...) *without* the padding that
``torch.utils.data.DistributedSampler`` adds to even out the shards: a padded sample would be
counted twice, and counts must be exact.

Merging uses merged moments in float64: the sums n and n * mean are all-reduced, giving the
global mean m; then each rank's M2 + n * (mean - m)^2 is all-reduced, giving the global M2
(the parallel-variance identity). Histograms and top-1 counts are plain sums.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TypeVar
from collections.abc import Sequence

import torch
import torch.distributed as dist

from .accumulator import ProfileAccumulator

T = TypeVar("T")


@dataclass(frozen=True)
class World:
    """This process's place among the profiling processes (rank 0 of 1 when not distributed)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ


def init_from_env(device: torch.device) -> World:
    """Join the process group torchrun described in the environment (once); a single process
    that was not started by torchrun gets ``World()`` and no process group."""
    if not launched_by_torchrun():
        return World()
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
    return World(rank=dist.get_rank(), size=dist.get_world_size(),
                 local_rank=int(os.environ.get("LOCAL_RANK", "0")))


def device_for(world: World, device: torch.device) -> torch.device:
    """One GPU per process: rank with LOCAL_RANK i uses cuda:i."""
    if world.distributed and device.type == "cuda":
        return torch.device("cuda", world.local_rank)
    return device


def shard(items: Sequence[T], world: World) -> list[T]:
    """This rank's items: every W-th from position ``rank``, no padding, so nothing is counted twice."""
    return list(items[world.rank::world.size])


def all_reduce_(acc: ProfileAccumulator, world: World) -> ProfileAccumulator:
    """Replace each rank's statistics by the merge of all ranks' (in place, float64)."""
    if not world.distributed:
        return acc
    n_local = acc.count.to(torch.float64)[:, :, None, None]
    dist.all_reduce(acc.count)
    dist.all_reduce(acc.top1_correct)
    n_total = acc.count.to(torch.float64)[:, :, None, None]
    for g in acc.gates:
        mean_local = acc.mean[g.name]
        total = mean_local * n_local
        dist.all_reduce(total)
        mean = total / n_total.clamp(min=1)
        spread = acc.m2[g.name] + n_local * (mean_local - mean) ** 2
        dist.all_reduce(spread)
        acc.mean[g.name], acc.m2[g.name] = mean, spread
        dist.all_reduce(acc.hist[g.name])
        if acc.channel_hist:
            dist.all_reduce(acc.channel_hists[g.name])
    return acc


def gather_lists(items: list, world: World) -> list:
    """Concatenate a small picklable list (e.g. the skipped files) from every rank, on every rank."""
    if not world.distributed:
        return list(items)
    parts: list[list | None] = [None] * world.size
    dist.all_gather_object(parts, items)
    return [x for part in parts for x in (part or [])]


def barrier(world: World) -> None:
    if world.distributed:
        dist.barrier()


def shutdown(world: World) -> None:
    if world.distributed and dist.is_initialized():
        dist.destroy_process_group()
