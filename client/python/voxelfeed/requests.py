"""Wire requests from keyword arguments: defaults filled, every value checked before any call.

Unset fields take the documented defaults, never proto3's zeros: world_size 1, dtype uint8, no mask. A value
that cannot be encoded is refused here with FeedError INVALID_ARGUMENT naming it; the server checks the rest
(crop sizes against the volume, probabilities, limits) and answers INVALID_ARGUMENT the same way.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from ._gen.voxelfeed.v1 import voxelfeed_pb2 as pb
from .errors import FeedError

UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1

DTYPES = {"uint8": pb.DTYPE_UINT8, "float32": pb.DTYPE_FLOAT32}
SPLIT_PARTS = {"all": pb.SPLIT_PART_ALL, "train": pb.SPLIT_PART_TRAIN, "holdout": pb.SPLIT_PART_HOLDOUT}
SAMPLING_FIELDS = tuple(field.name for field in pb.SamplingOptions.DESCRIPTOR.fields)


def stream_request(
    *,
    crop_size: Sequence[int],
    batch_size: int,
    dataset: str = "",
    seed: int = 0,
    epoch: int = 0,
    rank: int = 0,
    world_size: int = 1,
    rank_groups: int = 1,
    dtype: str = "uint8",
    include_mask: bool = False,
    sampling: Mapping[str, Any] | None = None,
    split: Mapping[str, Any] | None = None,
    start_step: int = 0,
    max_steps: int = 0,
    step_stride: int = 1,
) -> pb.StreamBatchesRequest:
    """A StreamBatchesRequest; see the .proto for each field."""
    problems: list[str] = []
    request = pb.StreamBatchesRequest(
        rank=_uint(rank, "rank", UINT32_MAX, problems),
        world_size=_uint(world_size, "world_size", UINT32_MAX, problems),
        rank_groups=_uint(rank_groups, "rank_groups", UINT32_MAX, problems),
        batch_size=_uint(batch_size, "batch_size", UINT32_MAX, problems),
        start_step=_uint(start_step, "start_step", UINT64_MAX, problems),
        max_steps=_uint(max_steps, "max_steps", UINT64_MAX, problems),
        step_stride=_uint(step_stride, "step_stride", UINT32_MAX, problems),
        **_common(dataset, seed, epoch, crop_size, dtype, include_mask, sampling, split, problems),
    )
    _raise_if(problems, "stream request")
    return request


def sample_request(
    *,
    crop_size: Sequence[int],
    index: int,
    dataset: str = "",
    seed: int = 0,
    epoch: int = 0,
    dtype: str = "uint8",
    include_mask: bool = False,
    sampling: Mapping[str, Any] | None = None,
    split: Mapping[str, Any] | None = None,
) -> pb.GetSampleRequest:
    """A GetSampleRequest: the sample at plan position `index` of the epoch."""
    problems: list[str] = []
    request = pb.GetSampleRequest(
        index=_uint(index, "index", UINT64_MAX, problems),
        **_common(dataset, seed, epoch, crop_size, dtype, include_mask, sampling, split, problems),
    )
    _raise_if(problems, "sample request")
    return request


def trainer_stats(
    *,
    job: str,
    rank: int,
    step: int,
    world_size: int = 1,
    gpu_idle_seconds: float = 0.0,
    step_seconds: float = 0.0,
    data_wait_seconds: float = 0.0,
    samples: int = 0,
    epoch: int = 0,
    loss: float = 0.0,
    backend: str = "",
) -> pb.TrainerStats:
    """A rank's running totals (see TrainerStats in the .proto)."""
    problems: list[str] = []
    if not isinstance(job, str) or job == "":
        problems.append(f"job is {job!r}; name the training job, e.g. 'vnet-luna16'")
    for name, value in (
        ("gpu_idle_seconds", gpu_idle_seconds),
        ("step_seconds", step_seconds),
        ("data_wait_seconds", data_wait_seconds),
    ):
        if not isinstance(value, (int, float)) or value < 0 or value != value:
            problems.append(f"{name} is {value!r}; use seconds >= 0")
    stats = pb.TrainerStats(
        job=job if isinstance(job, str) else "",
        rank=_uint(rank, "rank", UINT32_MAX, problems),
        world_size=_uint(world_size, "world_size", UINT32_MAX, problems),
        step=_uint(step, "step", UINT64_MAX, problems),
        gpu_idle_seconds=float(gpu_idle_seconds) if isinstance(gpu_idle_seconds, (int, float)) else 0.0,
        step_seconds=float(step_seconds) if isinstance(step_seconds, (int, float)) else 0.0,
        data_wait_seconds=float(data_wait_seconds) if isinstance(data_wait_seconds, (int, float)) else 0.0,
        samples=_uint(samples, "samples", UINT64_MAX, problems),
        epoch=_uint(epoch, "epoch", UINT32_MAX, problems),
        loss=float(loss),
        backend=backend,
    )
    _raise_if(problems, "trainer stats")
    return stats


def _common(dataset, seed, epoch, crop_size, dtype, include_mask, sampling, split, problems) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "dataset": dataset if isinstance(dataset, str) else _bad(problems, f"dataset is {dataset!r}; use a name", ""),
        "seed": _uint(seed, "seed", UINT64_MAX, problems),
        "epoch": _uint(epoch, "epoch", UINT32_MAX, problems),
        "crop_size": _crop_size(crop_size, problems),
        "include_mask": bool(include_mask),
    }
    if dtype not in DTYPES:
        problems.append(f"dtype is {dtype!r}; use 'uint8' (the stored voxels) or 'float32' (voxel / 255)")
    fields["dtype"] = DTYPES.get(dtype, pb.DTYPE_UINT8)
    if sampling is not None:
        unknown = sorted(set(sampling) - set(SAMPLING_FIELDS))
        if unknown:
            problems.append(f"sampling has unknown fields {unknown}; use {', '.join(SAMPLING_FIELDS)}")
        else:
            fields["sampling"] = pb.SamplingOptions(**sampling)
    if split is not None:
        fields["split"] = _split(split, problems)
    return fields


def _crop_size(crop_size: Sequence[int], problems: list[str]) -> list[int]:
    if isinstance(crop_size, (str, bytes)) or not isinstance(crop_size, Sequence) or len(crop_size) != 3:
        problems.append(f"crop_size is {crop_size!r}; give 3 sizes (s0, s1, s2), e.g. (16, 96, 96)")
        return []
    return [_uint(size, f"crop_size[{axis}]", UINT32_MAX, problems) for axis, size in enumerate(crop_size)]


def _split(split: Mapping[str, Any], problems: list[str]) -> pb.DataSplit | None:
    part = split.get("part", "all")
    fraction = split.get("holdout_fraction", 0.0)
    if part not in SPLIT_PARTS:
        problems.append(f"split part is {part!r}; use 'all', 'train' or 'holdout'")
        return None
    if not isinstance(fraction, (int, float)) or not 0 <= fraction <= 1:
        problems.append(f"split holdout_fraction is {fraction!r}; use a share from 0 to 1")
        return None
    return pb.DataSplit(holdout_fraction=float(fraction), part=SPLIT_PARTS[part])


def _uint(value: Any, field: str, limit: int, problems: list[str]) -> int:
    # numbers.Integral takes numpy's integers too; bool is an int to Python but never a count here.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= value <= limit:
        problems.append(f"{field} is {value!r}; use an integer from 0 to {limit}")
        return 0
    return int(value)


def _bad(problems: list[str], problem: str, fallback: Any) -> Any:
    problems.append(problem)
    return fallback


def _raise_if(problems: list[str], what: str) -> None:
    if problems:
        details = "; ".join(problems)
        raise FeedError("INVALID_ARGUMENT", details, f"invalid {what}: {details}")
