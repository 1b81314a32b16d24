"""Batches as numpy arrays over the received message bytes, without copying them.

grpc hands the client each Batch message as one `bytes` object. Parsing it with protobuf would copy the image
and mask into the message and again out of it; instead the top-level fields are walked once, the two tensors
become numpy views into those bytes, and only the small rest (step, shape, sample records) is parsed by
protobuf.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from google.protobuf.message import DecodeError

from ._gen.voxelfeed.v1 import voxelfeed_pb2 as pb

IMAGE_FIELD = 6
MASK_FIELD = 7
CROP_MODES = {
    pb.CROP_MODE_JITTER: "jitter",
    pb.CROP_MODE_NEGATIVE: "negative",
    pb.CROP_MODE_CENTER: "center",
    pb.CROP_MODE_BACKGROUND: "background",
    pb.CROP_MODE_LABEL: "label",
}
NUMPY_DTYPES = {pb.DTYPE_UNSPECIFIED: np.dtype(np.uint8), pb.DTYPE_UINT8: np.dtype(np.uint8), pb.DTYPE_FLOAT32: np.dtype("<f4")}


@dataclass(frozen=True)
class Augmentation:
    """The transforms one sample got (AugmentationInfo in the .proto); None: not applied."""

    flipped_axes: tuple[int, ...]  # mirrored axes, ascending (np.flip on each)
    rotate90: int  # quarter turns k, as np.rot90(crop, k, axes=(1, 2)); 0: none
    gamma: float | None
    scale: float | None
    shift: float | None
    noise_std: float | None
    noise_seed: int  # seed of the per-voxel noise when noise_std is set


@dataclass(frozen=True)
class Sample:
    """Where one sample of a batch comes from (SampleInfo in the .proto)."""

    index: int  # plan position in the epoch
    series_uid: str
    # "jitter", "negative" (anywhere), "center", "background" (a negative free of foreground) or "label"
    mode: str
    origin: tuple[int, int, int]  # crop corner in volume voxels, NRRD axes 0, 1, 2; may be negative (padded)
    nodule: int  # the nodule drawn for, -1 for a negative sample
    nodule_center: tuple[float, ...]
    nodule_diameter: float
    item: int  # the epoch item before shuffling
    augmentation: Augmentation | None = None  # set when the request asked for augmentation
    background_draws: int = 0  # with avoid_foreground, for a negative: origins drawn
    background_missed: bool = False  # every draw held foreground: the crop is the last draw, mode "negative"
    label: int = 0  # for mode "label": the label of the centre voxel


@dataclass(frozen=True)
class Batch:
    """One batch: `image` [B, s0, s1, s2] (uint8 voxels or float32 voxel / 255) and `mask` (uint8 0/1, or None
    without include_mask), both read-only numpy views of the received bytes."""

    epoch: int
    step: int
    steps_in_epoch: int
    rank: int
    world_size: int
    image: np.ndarray
    mask: np.ndarray | None
    samples: tuple[Sample, ...]


class MalformedBatch(ValueError):
    """The bytes are not a Batch this client can read (truncated, or tensors that do not match the shape)."""


def decode_batch(raw: bytes) -> Batch:
    """A Batch from the bytes of one message; the tensors are views into `raw`."""
    rest, image_span, mask_span = split_tensors(raw)
    try:
        meta = pb.Batch.FromString(rest)
    except DecodeError as error:
        raise MalformedBatch(f"the batch does not parse as voxelfeed.v1.Batch: {error}") from None
    shape = tuple(meta.shape)
    if len(shape) != 4:
        raise MalformedBatch(f"batch shape is {list(shape)}; expected [B, s0, s1, s2]")
    image = _view(raw, image_span, NUMPY_DTYPES.get(meta.dtype), shape, "image", meta.dtype)
    mask = None if mask_span is None or mask_span[1] == 0 else _view(raw, mask_span, np.dtype(np.uint8), shape, "mask")
    return Batch(
        epoch=meta.epoch,
        step=meta.step,
        steps_in_epoch=meta.steps_in_epoch,
        rank=meta.rank,
        world_size=meta.world_size,
        image=image,
        mask=mask,
        samples=tuple(_sample(info) for info in meta.samples),
    )


def split_tensors(
    raw: bytes, fields: tuple[int, int] = (IMAGE_FIELD, MASK_FIELD)
) -> tuple[bytes, tuple[int, int] | None, tuple[int, int] | None]:
    """The message without its image and mask fields (numbers `fields`: Batch's by default), and (offset,
    length) of each in `raw` (None if absent).

    Walks the top-level fields by their wire types; a field that occurs twice keeps the last occurrence, as
    protobuf does for singular fields."""
    image_field, mask_field = fields
    view = memoryview(raw)
    kept: list[memoryview] = []
    spans: dict[int, tuple[int, int]] = {}
    at = 0
    end = len(raw)
    while at < end:
        start = at
        key, at = _varint(raw, at)
        field, wire_type = key >> 3, key & 7
        if wire_type == 0:
            _, at = _varint(raw, at)
        elif wire_type == 1:
            at += 8
        elif wire_type == 5:
            at += 4
        elif wire_type == 2:
            length, at = _varint(raw, at)
            if field in fields:
                if at + length > end:
                    raise MalformedBatch(f"field {field} runs past the end of the message")
                spans[field] = (at, length)
                at += length
                continue
            at += length
        else:
            raise MalformedBatch(f"wire type {wire_type} of field {field} is not one a voxelfeed message uses")
        if at > end:
            raise MalformedBatch(f"field {field} runs past the end of the message")
        kept.append(view[start:at])
    return b"".join(kept), spans.get(image_field), spans.get(mask_field)


def _varint(raw: bytes, at: int) -> tuple[int, int]:
    value = 0
    shift = 0
    while True:
        if at >= len(raw) or shift > 63:
            raise MalformedBatch("a varint runs past the end of the message")
        byte = raw[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def _view(
    raw: bytes, span: tuple[int, int] | None, dtype: np.dtype | None, shape: tuple[int, ...], name: str,
    dtype_value: int = 0,
) -> np.ndarray:
    if dtype is None:
        raise MalformedBatch(f"the batch's dtype {dtype_value} is not one this client knows; update the voxelfeed package")
    offset, length = span if span is not None else (0, 0)
    expected = int(np.prod(shape)) * dtype.itemsize
    if length != expected:
        raise MalformedBatch(f"{name} has {length} bytes; shape {list(shape)} of {dtype.name} needs {expected}")
    array = np.frombuffer(raw, dtype=dtype, count=expected // dtype.itemsize, offset=offset).reshape(shape)
    # float32 voxels land wherever the message put them; a misaligned view works but is slow in numpy and
    # risky in libraries that assume alignment, so such an image is copied once (uint8 never is).
    return array if array.flags.aligned else array.copy()


def _sample(info: pb.SampleInfo) -> Sample:
    return Sample(
        index=info.index,
        series_uid=info.series_uid,
        mode=CROP_MODES.get(info.mode, "unspecified"),
        origin=tuple(info.origin),
        nodule=info.nodule,
        nodule_center=tuple(info.nodule_center),
        nodule_diameter=info.nodule_diameter,
        item=info.item,
        augmentation=_augmentation(info.augmentation) if info.HasField("augmentation") else None,
        background_draws=info.background_draws,
        background_missed=info.background_missed,
        label=info.label,
    )


def _augmentation(info: pb.AugmentationInfo) -> Augmentation:
    return Augmentation(
        flipped_axes=tuple(info.flipped_axes),
        rotate90=info.rotate90,
        gamma=info.gamma if info.HasField("gamma") else None,
        scale=info.scale if info.HasField("scale") else None,
        shift=info.shift if info.HasField("shift") else None,
        noise_std=info.noise_std if info.HasField("noise_std") else None,
        noise_seed=info.noise_seed,
    )
