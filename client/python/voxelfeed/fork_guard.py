"""gRPC does not survive fork(): a child forked from a process that has opened gRPC channels inherits gRPC's
internal threads and locks in whatever state they were in, and its own calls then hang or fail at random
("tcp handshaker shutdown", UNAVAILABLE after every retry). This notes which process opened channels, so a
forked child can say so at once instead."""

from __future__ import annotations

import os

_GRPC_PID: int | None = None


def note_grpc_used() -> None:
    """Called when this process opens its first channel."""
    global _GRPC_PID
    if _GRPC_PID is None:
        _GRPC_PID = os.getpid()


def forked_after_grpc() -> bool:
    """Whether this process was forked from one that had opened gRPC channels (the note came with the fork)."""
    return _GRPC_PID is not None and _GRPC_PID != os.getpid()


FORK_ADVICE = (
    "this process was forked from one that had already opened gRPC channels (a FeedClient, or a "
    "VoxelFeedDataset iterated in the main process), and gRPC does not work in such a child. Start worker "
    "processes with forkserver or spawn: DataLoader(..., multiprocessing_context='forkserver'), or "
    "multiprocessing.get_context('forkserver') for your own processes; or open no client in the parent before "
    "the workers start"
)
