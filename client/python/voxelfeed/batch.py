"""Batches as numpy arrays over the received message bytes, without copying them.

grpc hands the client each Batch message as one `bytes` object. Parsing it with protobuf would copy the image
and mask into the message and again out of it; instead the top-level fields are walked once, the two tensors
become numpy views into those bytes, and only the small rest (step, shape, sample records) is parsed by
protobuf.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._gen.voxelfeed.v1 import voxelfeed_pb2 as pb
from ._tensor_message import BATCH_FIELDS, MalformedBatch, parse_head, split_tensors, tensor_views

__all__ = ["CROP_MODES", "Batch", "MalformedBatch", "Sample", "decode_batch", "split_tensors"]

CROP_MODES = {
    pb.CROP_MODE_JITTER: "jitter",
    pb.CROP_MODE_NEGATIVE: "negative",
    pb.CROP_MODE_CENTER: "center",
    pb.CROP_MODE_BACKGROUND: "background",
    pb.CROP_MODE_LABEL: "label",
}


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
    foreground_voxels: int  # the crop's voxels with a non-zero mask value, counted by the server, mask sent or not
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


def decode_batch(raw: bytes) -> Batch:
    """A Batch from the bytes of one message; the tensors are views into `raw`."""
    meta, shape, image_span, mask_span = parse_head(raw, pb.Batch, BATCH_FIELDS, "batch", "s")
    image, mask = tensor_views(raw, image_span, mask_span, meta.dtype, shape)
    return batch_with_tensors(meta, image, mask)


def batch_with_tensors(meta: pb.Batch, image: np.ndarray, mask: np.ndarray | None) -> Batch:
    """A Batch from a message's fields other than its tensors, and views of those tensors however received."""
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
        foreground_voxels=info.foreground_voxels,
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
