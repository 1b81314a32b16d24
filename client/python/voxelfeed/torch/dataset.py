"""VoxelFeedDataset: one rank's ready batches from a voxelfeed server, for `DataLoader(batch_size=None)`.

Every batch is a pure function of (seed, epoch, step, rank, world size), so a rank's epoch is a list of steps
0..steps_in_epoch-1 that the server can stream from any step. DataLoader workers split that list: worker w of n
streams steps start + w, start + w + n, ... (step_stride n), and the DataLoader's round robin over its workers
puts them back in order, so every step arrives exactly once and in order. Resuming is starting at a step.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from ..batch import Batch
from ..channels import Tls
from ..client_options import check_client_options
from ..client import FeedClient
from ..errors import FeedError
from ..reconnect import ReconnectPolicy
from ..requests import stream_request
from .rank_world import rank_and_world_size

STATE_VERSION = 1


@dataclass(frozen=True)
class _WorkerResume:
    epoch: int
    step: int
    stride: int
    worker: int
    steps_in_epoch: int


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
LABEL_DTYPES = (torch.int64, torch.uint8)
IMAGE_DTYPES = (torch.float32, torch.uint8)


class VoxelFeedDataset(IterableDataset):
    """Ready batches of one rank, as dicts of tensors:

    - `image`: float32 [B, 1, s0, s1, s2] = voxel / 255 (what the original pipeline fed its V-Net), or the
      uint8 voxels with `image_dtype=torch.uint8` (4 times fewer bytes to pin and copy; divide on the GPU);
    - `label`: int64 [B, s0, s1, s2], 0 or 1, or uint8 with `label_dtype=torch.uint8` (absent with
      `labels=False`);
    - `epoch`, `step`, `steps_in_epoch` (ints) and `index` (int64 [B], the samples' plan positions).

    `dataset.loader(num_workers=N, pin_memory=...)` makes its DataLoader: batch_size=None (batches come
    ready), and worker processes started by forkserver, because gRPC does not survive fork() in a process that
    has already used it (a plain `DataLoader(dataset, batch_size=None, ...)` works as long as the main process
    opened no client before its workers start). Call `set_epoch(e)` before each epoch, like
    DistributedSampler; it reaches persistent workers too. `rank` and `world_size` default to torch.distributed's when a
    process group is initialised, else to the RANK and WORLD_SIZE variables (torchrun), else 0 of 1.
    `steps_per_epoch` caps the steps each rank takes per epoch (0: the whole epoch). The connection options
    (`address` or `addresses`, `token`, `tls`, `prefetch`, `reconnect`, `channel_options`) are those of FeedClient; each worker
    connects on its own when it starts iterating.

    `shared_memory` (True: /dev/shm, or a directory the server sees too) takes the same-host path when the
    server runs on this host (voxelfeed.shm): batches arrive through shared memory instead of the socket, and
    the tensors are made from them as from the normal stream (the same bytes; a server on another host streams
    normally). Each DataLoader worker has a stream, and so a file, of its own.

    Resume: `state_after(batch)` of the last batch trained on (or `state_dict()` with num_workers=0, or the
    per-worker states of torchdata's StatefulDataLoader) saved with the checkpoint, then `load_state_dict(state)`
    on the new job's dataset: its next iteration starts with exactly the next batch.
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        crop_size: Sequence[int],
        batch_size: int,
        seed: int = 0,
        addresses: Sequence[str] | None = None,
        token: str | None = None,
        tls: bool | Mapping[str, bytes] | Tls | None = None,
        prefetch: int = 4,
        reconnect: ReconnectPolicy | None = None,
        channel_options: Mapping[str, Any] | None = None,
        rank: int | None = None,
        world_size: int | None = None,
        rank_groups: int = 1,
        sampling: Mapping[str, Any] | None = None,
        split: Mapping[str, Any] | None = None,
        dataset: str = "",
        image_dtype: torch.dtype = torch.float32,
        label_dtype: torch.dtype = torch.int64,
        labels: bool = True,
        steps_per_epoch: int = 0,
        shared_memory: bool | str | os.PathLike = False,
    ):
        super().__init__()
        problems: list[str] = []
        if (rank is None) != (world_size is None):
            problems.append("give both rank and world_size, or neither (then they come from torch.distributed)")
        elif rank is not None and not (_is_int(rank) and _is_int(world_size) and 0 <= rank < world_size):
            problems.append(f"rank {rank!r} of world_size {world_size!r}; use integers with 0 <= rank < world_size")
        if image_dtype not in IMAGE_DTYPES:
            problems.append(f"image_dtype is {image_dtype}; use torch.float32 (voxel / 255) or torch.uint8")
        if label_dtype not in LABEL_DTYPES:
            problems.append(f"label_dtype is {label_dtype}; use torch.int64 or torch.uint8")
        if not isinstance(shared_memory, (bool, str, os.PathLike)):
            problems.append(
                f"shared_memory is {shared_memory!r}; use True (/dev/shm), a directory path the server sees too, "
                "or False (the normal stream)"
            )
        if not _is_int(steps_per_epoch) or steps_per_epoch < 0:
            problems.append(f"steps_per_epoch is {steps_per_epoch!r}; use 0 (the whole epoch) or a positive integer")
        # Checked here, in the process that builds the dataset, rather than in a worker later.
        check_client_options(
            address=address, addresses=addresses, token=token, tls=tls, prefetch=prefetch, reconnect=reconnect,
            channel_options=channel_options, what="VoxelFeedDataset options", problems=problems,
        )
        self.request: dict[str, Any] = {
            "crop_size": tuple(crop_size) if hasattr(crop_size, "__iter__") and not isinstance(crop_size, str) else crop_size,
            "batch_size": batch_size,
            "seed": seed,
            "rank_groups": rank_groups,
            "sampling": None if sampling is None else dict(sampling),
            "split": None if split is None else dict(split),
            "dataset": dataset,
            "dtype": "uint8",  # the voxels travel as bytes; float conversion happens here, exactly as v / 255
            "include_mask": labels,
        }
        stream_request(**self.request, rank=0, world_size=1)
        self._client_options: dict[str, Any] = {
            "address": address,
            "addresses": None if addresses is None else list(addresses),
            "token": token,
            "tls": tls,
            "prefetch": prefetch,
            "reconnect": reconnect,
            "channel_options": None if channel_options is None else dict(channel_options),
        }
        self.image_dtype = image_dtype
        self.label_dtype = label_dtype
        self.labels = labels
        self.steps_per_epoch = steps_per_epoch
        self.shared_memory = shared_memory if isinstance(shared_memory, bool) else os.fspath(shared_memory)
        self._explicit_rank = None if rank is None else (rank, world_size)
        self._rank_world = self._explicit_rank or rank_and_world_size()
        # The epoch, the step it starts at and that epoch's steps when known (0: not known), in shared memory:
        # DataLoader workers, persistent ones included, read them when an epoch's iteration begins, so
        # set_epoch and load_state_dict in the main process reach workers started epochs ago. Only the main
        # process writes them.
        self._control = torch.zeros(3, dtype=torch.int64).share_memory_()
        # A worker's own position, restored in that worker (torchdata's StatefulDataLoader); used once.
        self._resume: _WorkerResume | None = None
        # This copy's position, for state_dict: the epoch it iterates, the next step it would yield, its worker
        # stride and index, and the epoch's steps once a batch has said.
        self._epoch_seen = 0
        self._next_step = 0
        self._stride = 1
        self._worker = 0
        self._steps_in_epoch = 0

    @property
    def epoch(self) -> int:
        return int(self._control[0])

    @property
    def rank(self) -> int:
        return self._rank_world[0]

    @property
    def world_size(self) -> int:
        return self._rank_world[1]

    def set_epoch(self, epoch: int) -> None:
        """Streams epoch `epoch` next. A step restored by load_state_dict is kept for its own epoch only."""
        if not _is_int(epoch) or not 0 <= epoch < 2**32:
            raise ValueError(f"epoch is {epoch!r}; use an integer from 0 to 4294967295")
        self._require_main("set_epoch")
        if epoch != self.epoch:
            self._control[:] = torch.tensor([epoch, 0, 0])
        self._epoch_seen, self._next_step, self._stride, self._worker = epoch, int(self._control[1]), 1, 0
        self._rank_world = self._explicit_rank or rank_and_world_size()

    def loader(self, num_workers: int = 0, **options: Any) -> DataLoader:
        """A DataLoader of these ready batches. None of its own workers by default: the server does the work
        they would do, the stream's prefetch thread overlaps the transfer with training, and every batch a
        worker makes would cross process memory to reach the training loop. Worker processes start with
        forkserver unless `multiprocessing_context` says otherwise; other options (pin_memory,
        persistent_workers, prefetch_factor, ...) go to the DataLoader as given."""
        if num_workers > 0:
            options.setdefault("multiprocessing_context", "forkserver")
        return DataLoader(self, batch_size=None, num_workers=num_workers, **options)

    def state_dict(self) -> dict[str, Any]:
        """Where this copy of the dataset is: exact for num_workers=0 (the next batch the loop gets); in a
        DataLoader worker, that worker's own position (what torchdata's StatefulDataLoader collects)."""
        return {
            "version": STATE_VERSION,
            "epoch": self._epoch_seen,
            "step": self._next_step,
            "stride": self._stride,
            "worker": self._worker,
            "steps_in_epoch": self._steps_in_epoch,
            "request": self._fingerprint(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue where `state` (from state_after, state_dict or StatefulDataLoader) left off: in the main
        process for the whole loader, in a DataLoader worker (StatefulDataLoader) for that worker."""
        problems = []
        if not isinstance(state, Mapping):
            raise ValueError(f"cannot resume from {state!r}: expected the dict of state_after or state_dict")
        if state.get("version", STATE_VERSION) != STATE_VERSION:
            problems.append(f"state version is {state.get('version')!r}; this package reads version {STATE_VERSION}")
        for key, default in (("epoch", None), ("step", None), ("stride", 1), ("worker", 0), ("steps_in_epoch", 0)):
            value = state.get(key, default)
            if not _is_int(value) or value < 0:
                problems.append(f"state {key} is {value!r}; expected an integer >= 0")
        saved = state.get("request")
        now = self._fingerprint()
        if saved is not None and saved != now:
            changed = sorted(k for k in set(saved) | set(now) if saved.get(k) != now.get(k))
            problems.append(
                f"the state was saved with other request fields ({', '.join(changed)}): "
                f"saved {[saved.get(k) for k in changed]}, now {[now.get(k) for k in changed]}; "
                "resume with the same request, or start the epoch over"
            )
        if problems:
            raise ValueError("cannot resume from this state: " + "; ".join(problems))
        resume = _WorkerResume(
            state["epoch"], state["step"], state.get("stride", 1), state.get("worker", 0), state.get("steps_in_epoch", 0)
        )
        if get_worker_info() is not None:
            self._resume = resume
            return
        if resume.stride > 1:
            raise ValueError(
                f"this state is DataLoader worker {resume.worker}'s of {resume.stride}: a worker's own position, "
                "which torchdata's StatefulDataLoader hands back to that worker; to resume a whole loader, save "
                "state_after(batch) of the last batch trained on"
            )
        self._control[:] = torch.tensor([resume.epoch, resume.step, resume.steps_in_epoch])
        self._epoch_seen, self._next_step = resume.epoch, resume.step

    def __iter__(self) -> Iterator[dict[str, Any]]:
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        if info is None:
            self._rank_world = self._explicit_rank or rank_and_world_size()
        epoch = self.epoch
        first, steps_in_epoch = self._first_step(epoch, worker, workers)
        self._epoch_seen, self._worker, self._stride, self._next_step = epoch, worker, workers, first
        self._steps_in_epoch = steps_in_epoch
        count = self._steps_to_take(first, workers)
        if count == 0 or (steps_in_epoch > 0 and first >= steps_in_epoch):
            return
        rank, world_size = self._rank_world
        with FeedClient(**self._client_options) as client:
            stream = client.stream_batches(
                **self.request,
                epoch=epoch,
                rank=rank,
                world_size=world_size,
                start_step=first,
                step_stride=workers,
                max_steps=count if count is not None else 0,
                shared_memory=self.shared_memory,
            )
            try:
                for batch in stream:
                    self._next_step = batch.step + workers
                    self._steps_in_epoch = batch.steps_in_epoch
                    yield self._to_tensors(batch)
            except FeedError as error:
                # A worker other than the first whose first step is past the epoch's end has no step of its own.
                if not (error.code == "OUT_OF_RANGE" and worker > 0 and self._next_step == first):
                    raise
            finally:
                stream.close()

    def _first_step(self, epoch: int, worker: int, workers: int) -> tuple[int, int]:
        """This worker's first step of `epoch`, and the epoch's steps if known (0: not yet)."""
        resume, self._resume = self._resume, None
        if resume is not None and resume.epoch == epoch:
            if resume.stride == 1:
                return resume.step + worker, resume.steps_in_epoch
            if (resume.worker, resume.stride) != (worker, workers):
                raise ValueError(
                    f"the state belongs to DataLoader worker {resume.worker} of {resume.stride}, but this is worker "
                    f"{worker} of {workers}; resume with the same num_workers, or from state_after(batch)"
                )
            return resume.step, resume.steps_in_epoch
        return int(self._control[1]) + worker, int(self._control[2])

    def _steps_to_take(self, first: int, workers: int) -> int | None:
        """Steps this worker takes under steps_per_epoch, or None for "to the end of the epoch"."""
        if self.steps_per_epoch == 0:
            return None
        if first >= self.steps_per_epoch:
            return 0
        return (self.steps_per_epoch - first + workers - 1) // workers

    def _require_main(self, method: str) -> None:
        if get_worker_info() is not None:
            raise RuntimeError(f"{method} belongs in the main process, before the epoch's iteration starts")

    def _fingerprint(self) -> dict[str, Any]:
        """The request fields a position only makes sense with."""
        return {
            "seed": self.request["seed"],
            "crop_size": list(self.request["crop_size"]),
            "batch_size": self.request["batch_size"],
            "rank": self.rank,
            "world_size": self.world_size,
            "rank_groups": self.request["rank_groups"],
            "dataset": self.request["dataset"],
            "sampling": self.request["sampling"],
            "split": self.request["split"],
            "steps_per_epoch": self.steps_per_epoch,
        }

    def _to_tensors(self, batch: Batch) -> dict[str, Any]:
        shape = batch.image.shape
        if self.image_dtype == torch.float32:
            # float32 division is correctly rounded: exactly the server's float32 voxel / 255.
            image = torch.from_numpy(np.divide(batch.image, np.float32(255), dtype=np.float32))
        else:
            image = torch.from_numpy(np.array(batch.image))
        out: dict[str, Any] = {
            "image": image.reshape(shape[0], 1, *shape[1:]),
            "epoch": batch.epoch,
            "step": batch.step,
            "steps_in_epoch": batch.steps_in_epoch,
            "index": torch.tensor([sample.index for sample in batch.samples], dtype=torch.int64),
        }
        if self.labels:
            if batch.mask is None:
                raise FeedError("DATA_LOSS", "the batch has no mask", "StreamBatches: the server sent no mask")
            label = batch.mask.astype(np.int64) if self.label_dtype == torch.int64 else np.array(batch.mask)
            out["label"] = torch.from_numpy(label)
        return out


def state_after(batch: Mapping[str, Any]) -> dict[str, Any]:
    """The dataset state that resumes with the batch after `batch` (a dict the dataset yielded): the next step
    of its epoch, or step 0 of the next epoch after its last step. Save it with the checkpoint."""
    epoch, step, steps = int(batch["epoch"]), int(batch["step"]), int(batch["steps_in_epoch"])
    if step + 1 >= steps:
        return {"version": STATE_VERSION, "epoch": epoch + 1, "step": 0, "stride": 1}
    return {"version": STATE_VERSION, "epoch": epoch, "step": step + 1, "stride": 1}

