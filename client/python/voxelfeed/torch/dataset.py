"""VoxelFeedDataset: one rank's ready batches from a voxelfeed server, for `DataLoader(batch_size=None)`.

Every batch is a pure function of (seed, epoch, step, rank, world size), so a rank's epoch is a list of steps
0..steps_in_epoch-1 that the server can stream from any step. DataLoader workers split that list: worker w of n
streams steps start + w, start + w + n, ... (step_stride n), and the DataLoader's round robin over its workers
puts them back in order, so every step arrives exactly once and in order. Resuming is starting at a step.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from ..batch import Batch
from ..channels import Tls, address_problem
from ..client import FeedClient
from ..errors import FeedError
from ..reconnect import ReconnectPolicy
from ..requests import stream_request
from .rank_world import rank_and_world_size

STATE_VERSION = 1
LABEL_DTYPES = (torch.int64, torch.uint8)
IMAGE_DTYPES = (torch.float32, torch.uint8)


class VoxelFeedDataset(IterableDataset):
    """Ready batches of one rank, as dicts of tensors:

    - `image`: float32 [B, 1, s0, s1, s2] = voxel / 255 (what the original pipeline fed its V-Net), or the
      uint8 voxels with `image_dtype=torch.uint8` (4 times fewer bytes to pin and copy; divide on the GPU);
    - `label`: int64 [B, s0, s1, s2], 0 or 1, or uint8 with `label_dtype=torch.uint8` (absent with
      `labels=False`);
    - `epoch`, `step`, `steps_in_epoch` (ints) and `index` (int64 [B], the samples' plan positions).

    Use it with `DataLoader(dataset, batch_size=None, num_workers=N, pin_memory=...)`. Call `set_epoch(e)`
    before each epoch, like DistributedSampler. `rank` and `world_size` default to torch.distributed's when a
    process group is initialised, else to the RANK and WORLD_SIZE variables (torchrun), else 0 of 1.
    `steps_per_epoch` caps the steps each rank takes per epoch (0: the whole epoch). The connection options
    (`address` or `addresses`, `token`, `tls`, `prefetch`, `reconnect`) are those of FeedClient; each worker
    connects on its own when it starts iterating.

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
    ):
        super().__init__()
        problems: list[str] = []
        if (rank is None) != (world_size is None):
            problems.append("give both rank and world_size, or neither (then they come from torch.distributed)")
        if image_dtype not in IMAGE_DTYPES:
            problems.append(f"image_dtype is {image_dtype}; use torch.float32 (voxel / 255) or torch.uint8")
        if label_dtype not in LABEL_DTYPES:
            problems.append(f"label_dtype is {label_dtype}; use torch.int64 or torch.uint8")
        if isinstance(steps_per_epoch, bool) or not isinstance(steps_per_epoch, int) or steps_per_epoch < 0:
            problems.append(f"steps_per_epoch is {steps_per_epoch!r}; use 0 (the whole epoch) or a positive integer")
        for entry in [address] if addresses is None else list(addresses):
            problem = None if entry is None else address_problem(entry)
            if problem is not None:
                problems.append(problem)
        if address is None and addresses is None:
            problems.append("no server address; pass address='host:port' (e.g. 127.0.0.1:50051)")
        if problems:
            details = "; ".join(problems)
            raise FeedError("INVALID_ARGUMENT", details, f"invalid VoxelFeedDataset options: {details}")
        self.request: dict[str, Any] = {
            "crop_size": tuple(crop_size) if isinstance(crop_size, Sequence) else crop_size,
            "batch_size": batch_size,
            "seed": seed,
            "rank_groups": rank_groups,
            "sampling": None if sampling is None else dict(sampling),
            "split": None if split is None else dict(split),
            "dataset": dataset,
            "dtype": "uint8",  # the voxels travel as bytes; float conversion happens here, exactly as v / 255
            "include_mask": labels,
        }
        # Checks every request field now, in the process that builds the dataset, not in a worker later.
        stream_request(**self.request, rank=0, world_size=1)
        self._client_options: dict[str, Any] = {
            "address": address,
            "addresses": None if addresses is None else list(addresses),
            "token": token,
            "tls": tls,
            "prefetch": prefetch,
            "reconnect": reconnect,
        }
        self.image_dtype = image_dtype
        self.label_dtype = label_dtype
        self.labels = labels
        self.steps_per_epoch = steps_per_epoch
        self._explicit_rank = None if rank is None else (rank, world_size)
        self._rank_world = self._explicit_rank or rank_and_world_size()
        self.epoch = 0
        self._start_step = 0
        # Set by load_state_dict with one worker's state (StatefulDataLoader): (worker, workers, next step).
        self._worker_resume: tuple[int, int, int] | None = None
        # This copy's position: the next step it would yield, and its worker stride.
        self._next_step = 0
        self._stride = 1
        self._worker = 0

    @property
    def rank(self) -> int:
        return self._rank_world[0]

    @property
    def world_size(self) -> int:
        return self._rank_world[1]

    def set_epoch(self, epoch: int) -> None:
        """Streams epoch `epoch` next. A step restored by load_state_dict is kept for its own epoch only."""
        if isinstance(epoch, bool) or not isinstance(epoch, int) or not 0 <= epoch < 2**32:
            raise ValueError(f"epoch is {epoch!r}; use an integer from 0 to 4294967295")
        if epoch != self.epoch:
            self._start_step = 0
            self._worker_resume = None
        self.epoch = epoch
        self._next_step = self._start_step
        self._rank_world = self._explicit_rank or rank_and_world_size()

    def state_dict(self) -> dict[str, Any]:
        """Where this copy of the dataset is: exact for num_workers=0 (the next batch the loop gets); in a
        DataLoader worker, that worker's own position (what torchdata's StatefulDataLoader collects)."""
        return {
            "version": STATE_VERSION,
            "epoch": self.epoch,
            "step": self._next_step,
            "stride": self._stride,
            "worker": self._worker,
            "request": self._fingerprint(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue where `state` (from state_after, state_dict or StatefulDataLoader) left off."""
        problems = []
        if state.get("version", STATE_VERSION) != STATE_VERSION:
            problems.append(f"state version is {state.get('version')!r}; this package reads version {STATE_VERSION}")
        for key in ("epoch", "step"):
            value = state.get(key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                problems.append(f"state {key} is {value!r}; expected an integer >= 0")
        saved = state.get("request")
        if saved is not None and saved != self._fingerprint():
            changed = sorted(k for k in set(saved) | set(self._fingerprint()) if saved.get(k) != self._fingerprint().get(k))
            problems.append(
                f"the state was saved with other request fields ({', '.join(changed)}): "
                f"saved {[saved.get(k) for k in changed]}, now {[self._fingerprint().get(k) for k in changed]}; "
                "resume with the same seed, crop, batch size and world size, or start the epoch over"
            )
        if problems:
            raise ValueError("cannot resume from this state: " + "; ".join(problems))
        self.epoch = state["epoch"]
        stride = state.get("stride", 1)
        if stride > 1:
            self._worker_resume = (state.get("worker", 0), stride, state["step"])
            self._start_step = 0
        else:
            self._worker_resume = None
            self._start_step = state["step"]
        self._next_step = state["step"]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        if info is None:
            self._rank_world = self._explicit_rank or rank_and_world_size()
        first = self._first_step(worker, workers)
        self._worker, self._stride, self._next_step = worker, workers, first
        count = self._steps_to_take(first, workers)
        if count == 0:
            return
        rank, world_size = self._rank_world
        with FeedClient(**self._client_options) as client:
            stream = client.stream_batches(
                **self.request,
                epoch=self.epoch,
                rank=rank,
                world_size=world_size,
                start_step=first,
                step_stride=workers,
                max_steps=count if count is not None else 0,
            )
            try:
                for batch in stream:
                    self._next_step = batch.step + workers
                    yield self._to_tensors(batch)
            except FeedError as error:
                # A worker other than the first whose first step is past the epoch's end has no step of its own.
                if not (error.code == "OUT_OF_RANGE" and worker > 0 and self._next_step == first):
                    raise
            finally:
                stream.close()

    def _first_step(self, worker: int, workers: int) -> int:
        if self._worker_resume is not None:
            saved_worker, saved_workers, step = self._worker_resume
            if (saved_worker, saved_workers) != (worker, workers) and workers > 1:
                raise ValueError(
                    f"the state belongs to worker {saved_worker} of {saved_workers}, but this is worker {worker} of "
                    f"{workers}; resume with the same num_workers, or from state_after(batch)"
                )
            return step
        return self._start_step + worker

    def _steps_to_take(self, first: int, workers: int) -> int | None:
        """Steps this worker takes under steps_per_epoch, or None for "to the end of the epoch"."""
        if self.steps_per_epoch == 0:
            return None
        if first >= self.steps_per_epoch:
            return 0
        return (self.steps_per_epoch - first + workers - 1) // workers

    def _fingerprint(self) -> dict[str, Any]:
        return {
            "seed": self.request["seed"],
            "crop_size": list(self.request["crop_size"]),
            "batch_size": self.request["batch_size"],
            "world_size": self.world_size,
            "dataset": self.request["dataset"],
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

