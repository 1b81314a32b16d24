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
AUGMENTATION_FIELDS = tuple(field.name for field in pb.Augmentation.DESCRIPTOR.fields)
AUGMENTATION_PRESETS = {"none": pb.AUGMENTATION_PRESET_NONE, "nnunet": pb.AUGMENTATION_PRESET_NNUNET}


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


def tiles_request(
    *,
    tile_size: Sequence[int],
    dataset: str = "",
    series_uids: Sequence[str] | None = None,
    split: Mapping[str, Any] | None = None,
    overlap: float | Sequence[float] | None = None,
    batch_size: int = 1,
    dtype: str = "uint8",
    include_mask: bool = False,
    pad_value: int = 0,
    start_series: int = 0,
    start_tile: int = 0,
) -> pb.StreamTilesRequest:
    """A StreamTilesRequest: the tiles of the series named (or of the split, or of every series) on the grid
    of tile_size and overlap (None: the server's 0.5 on every axis, as nnU-Net)."""
    problems: list[str] = []
    uids: list[str] = []
    if series_uids is not None:
        if isinstance(series_uids, (str, bytes)) or not hasattr(series_uids, "__iter__"):
            problems.append(f"series_uids is {series_uids!r}; give a list of series uids")
        else:
            uids = list(series_uids)
            for uid in uids:
                if not isinstance(uid, str) or uid == "":
                    problems.append(f"series_uids holds {uid!r}; give each series uid as a non-empty string")
            repeated = sorted({uid for uid in uids if isinstance(uid, str) and uids.count(uid) > 1})
            if repeated:
                problems.append(f"series_uids names {repeated} more than once; name each series once")
            if split is not None:
                problems.append("series_uids and split are both given; name the series, or give a split, not both")
    batch_ok = not isinstance(batch_size, bool) and isinstance(batch_size, numbers.Integral)
    if not batch_ok or not 1 <= batch_size <= UINT32_MAX:
        batch_ok = False
        problems.append(f"batch_size is {batch_size!r}; use an integer from 1 to {UINT32_MAX} (tiles per message)")
    sizes = _sizes(tile_size, "tile_size", problems)
    if 0 in sizes:
        problems.append(f"tile_size is {tile_size!r}; every size must be at least 1")
    if not _is_voxel_value(pad_value):
        problems.append(f"pad_value is {pad_value!r}; use an integer from 0 to 255 (stored voxel units)")
    if dtype not in DTYPES:
        problems.append(f"dtype is {dtype!r}; use 'uint8' (the stored voxels) or 'float32' (voxel / 255)")
    fields: dict[str, Any] = {
        "dataset": dataset if isinstance(dataset, str) else _bad(problems, f"dataset is {dataset!r}; use a name", ""),
        "series_uids": [uid for uid in uids if isinstance(uid, str)],
        "tile_size": sizes,
        "overlap": _overlap(overlap, problems),
        "batch_size": int(batch_size) if batch_ok else 0,
        "dtype": DTYPES.get(dtype, pb.DTYPE_UINT8),
        "include_mask": bool(include_mask),
        "pad_value": float(pad_value) if _is_voxel_value(pad_value) else 0.0,
        "start_series": _uint(start_series, "start_series", UINT32_MAX, problems),
        "start_tile": _uint(start_tile, "start_tile", UINT64_MAX, problems),
    }
    if split is not None:
        fields["split"] = _split(split, problems)
    _raise_if(problems, "tiles request")
    return pb.StreamTilesRequest(**fields)


def _overlap(overlap: Any, problems: list[str]) -> list[float]:
    if overlap is None:
        return []
    values = [overlap] if isinstance(overlap, numbers.Real) else overlap
    sized = hasattr(values, "__len__") and not isinstance(values, (str, bytes))
    if not sized or len(values) not in (1, 3) or not all(
        isinstance(o, numbers.Real) and not isinstance(o, bool) and 0 <= o < 1 for o in values
    ):
        problems.append(
            f"overlap is {overlap!r}; give a share of the tile from 0 to below 1, one for every axis or three "
            "(s0, s1, s2), e.g. 0.5 (nnU-Net)"
        )
        return []
    return [float(o) for o in values]


def _is_voxel_value(value: Any) -> bool:
    return (
        not isinstance(value, bool) and isinstance(value, numbers.Real) and 0 <= value <= 255 and value == int(value)
    )


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
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0 or value != value:
            problems.append(f"{name} is {value!r}; use seconds >= 0")
    if isinstance(loss, bool) or not isinstance(loss, numbers.Real):
        problems.append(f"loss is {loss!r}; use a number (the latest step's loss)")
    if not isinstance(backend, str):
        problems.append(f"backend is {backend!r}; use a name such as 'cuda' or 'cpu'")
    stats = pb.TrainerStats(
        job=job if isinstance(job, str) else "",
        rank=_uint(rank, "rank", UINT32_MAX, problems),
        world_size=_uint(world_size, "world_size", UINT32_MAX, problems),
        step=_uint(step, "step", UINT64_MAX, problems),
        gpu_idle_seconds=_seconds(gpu_idle_seconds),
        step_seconds=_seconds(step_seconds),
        data_wait_seconds=_seconds(data_wait_seconds),
        samples=_uint(samples, "samples", UINT64_MAX, problems),
        epoch=_uint(epoch, "epoch", UINT32_MAX, problems),
        loss=float(loss) if isinstance(loss, numbers.Real) else 0.0,
        backend=backend if isinstance(backend, str) else "",
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
        fields["sampling"] = _sampling(sampling, problems)
    if split is not None:
        fields["split"] = _split(split, problems)
    return fields


def _sampling(sampling: Any, problems: list[str]) -> pb.SamplingOptions | None:
    if not isinstance(sampling, Mapping):
        problems.append(f"sampling is {sampling!r}; give a dict of {', '.join(SAMPLING_FIELDS)}")
        return None
    unknown = sorted(set(sampling) - set(SAMPLING_FIELDS))
    if unknown:
        problems.append(f"sampling has unknown fields {unknown}; use {', '.join(SAMPLING_FIELDS)}")
        return None
    values: dict[str, Any] = {}
    for name, value in sampling.items():
        if name == "augmentation":
            values[name] = _augmentation(value, problems)
        elif name == "label_ratios":
            values[name] = _ratios(value, problems)
        else:
            values[name] = _scalar(pb.SamplingOptions.DESCRIPTOR.fields_by_name[name], value, f"sampling.{name}", problems)
    return pb.SamplingOptions(**{name: value for name, value in values.items() if value is not None})


def _augmentation(augmentation: Any, problems: list[str]) -> pb.Augmentation | None:
    """sampling["augmentation"]: a dict of Augmentation's fields; preset may be "nnunet" or "none"."""
    if not isinstance(augmentation, Mapping):
        problems.append(f"sampling.augmentation is {augmentation!r}; give a dict of {', '.join(AUGMENTATION_FIELDS)}")
        return None
    unknown = sorted(set(augmentation) - set(AUGMENTATION_FIELDS))
    if unknown:
        problems.append(f"sampling.augmentation has unknown fields {unknown}; use {', '.join(AUGMENTATION_FIELDS)}")
        return None
    values: dict[str, Any] = {}
    for name, value in augmentation.items():
        field = f"sampling.augmentation.{name}"
        if name == "preset":
            if isinstance(value, str) and value in AUGMENTATION_PRESETS:
                values[name] = AUGMENTATION_PRESETS[value]
            elif value in AUGMENTATION_PRESETS.values() and not isinstance(value, bool):
                values[name] = value
            else:
                problems.append(f"{field} is {value!r}; use one of {', '.join(map(repr, AUGMENTATION_PRESETS))}")
        elif name == "flip_axes":
            if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
                problems.append(f"{field} is {value!r}; give a list of axes 0..2, e.g. [1, 2]")
            else:
                values[name] = [_uint(axis, field, 2, problems) for axis in value]
        else:
            values[name] = _scalar(pb.Augmentation.DESCRIPTOR.fields_by_name[name], value, field, problems)
    return pb.Augmentation(**{name: value for name, value in values.items() if value is not None})


def _ratios(ratios: Any, problems: list[str]) -> list[float] | None:
    """sampling["label_ratios"]: the weight of label c at index c (MONAI RandCropByLabelClasses ratios)."""
    if isinstance(ratios, (str, bytes)) or not isinstance(ratios, Sequence) or any(
        isinstance(r, bool) or not isinstance(r, numbers.Real) for r in ratios
    ):
        problems.append(f"sampling.label_ratios is {ratios!r}; give a list of weights, index c for label c, e.g. [0, 1, 1]")
        return None
    return [float(r) for r in ratios]


def _scalar(descriptor: Any, value: Any, field: str, problems: list[str]) -> Any:
    if descriptor.cpp_type == descriptor.CPPTYPE_FLOAT:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            problems.append(f"{field} is {value!r}; use a number")
            return None
        return float(value)
    if descriptor.cpp_type == descriptor.CPPTYPE_BOOL:
        if not isinstance(value, bool):
            problems.append(f"{field} is {value!r}; use True or False")
            return None
        return value
    return _uint(value, field, UINT32_MAX, problems)


def _crop_size(crop_size: Any, problems: list[str]) -> list[int]:
    return _sizes(crop_size, "crop_size", problems)


def _sizes(sizes: Any, name: str, problems: list[str]) -> list[int]:
    # Any sequence of 3 (a tuple, a list, a numpy array), never a string.
    sized = hasattr(sizes, "__len__") and hasattr(sizes, "__iter__") and not isinstance(sizes, (str, bytes))
    if not sized or len(sizes) != 3:
        problems.append(f"{name} is {sizes!r}; give 3 sizes (s0, s1, s2), e.g. (16, 96, 96)")
        return []
    return [_uint(size, f"{name}[{axis}]", UINT32_MAX, problems) for axis, size in enumerate(sizes)]


def _split(split: Any, problems: list[str]) -> pb.DataSplit | None:
    if not isinstance(split, Mapping):
        problems.append(f"split is {split!r}; give {{'holdout_fraction': 0.2, 'part': 'train'}}")
        return None
    unknown = sorted(set(split) - {"holdout_fraction", "part"})
    if unknown:
        problems.append(f"split has unknown keys {unknown}; use holdout_fraction and part")
        return None
    part = split.get("part", "all")
    fraction = split.get("holdout_fraction", 0.0)
    if part not in SPLIT_PARTS:
        problems.append(f"split part is {part!r}; use 'all', 'train' or 'holdout'")
        return None
    if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) or not 0 <= fraction <= 1:
        problems.append(f"split holdout_fraction is {fraction!r}; use a share from 0 to 1")
        return None
    return pb.DataSplit(holdout_fraction=float(fraction), part=SPLIT_PARTS[part])


def _uint(value: Any, field: str, limit: int, problems: list[str]) -> int:
    # numbers.Integral takes numpy's integers too; bool is an int to Python but never a count here.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= value <= limit:
        problems.append(f"{field} is {value!r}; use an integer from 0 to {limit}")
        return 0
    return int(value)


def _seconds(value: Any) -> float:
    return float(value) if isinstance(value, numbers.Real) and value == value else 0.0


def _bad(problems: list[str], problem: str, fallback: Any) -> Any:
    problems.append(problem)
    return fallback


def _raise_if(problems: list[str], what: str) -> None:
    if problems:
        details = "; ".join(problems)
        raise FeedError("INVALID_ARGUMENT", details, f"invalid {what}: {details}")
