"""Which rank of how many this process is, as PyTorch's launchers say it."""

from __future__ import annotations

import os

import torch.distributed as dist


def rank_and_world_size() -> tuple[int, int]:
    """torch.distributed's rank and world size when a process group is initialised, else the RANK and
    WORLD_SIZE variables that torchrun sets, else rank 0 of 1."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    rank = os.environ.get("RANK")
    world_size = os.environ.get("WORLD_SIZE")
    if rank is None and world_size is None:
        return 0, 1
    try:
        resolved = int(rank if rank is not None else "0"), int(world_size if world_size is not None else "1")
    except ValueError:
        raise ValueError(
            f"RANK={rank!r} WORLD_SIZE={world_size!r} are not integers; launch with torchrun, or pass rank= and "
            "world_size= to VoxelFeedDataset"
        ) from None
    if not 0 <= resolved[0] < resolved[1]:
        raise ValueError(
            f"RANK={rank} is not in 0..WORLD_SIZE-1 (WORLD_SIZE={world_size}); launch with torchrun, or pass "
            "rank= and world_size= to VoxelFeedDataset"
        )
    return resolved
