"""TileBatch messages as numpy views of the received bytes, like batches (see voxelfeed.batch)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._gen.voxelfeed.v1 import voxelfeed_pb2 as pb
from .._tensor_message import MalformedBatch, parse_head, tensor_views

# TileBatch.image, TileBatch.mask and TileBatch.padding.
TILE_BATCH_FIELDS = (10, 11, 14)


@dataclass(frozen=True)
class TileBatch:
    """Consecutive tiles of one series: `image` [B, t0, t1, t2] (uint8 voxels or float32 voxel / 255) and
    `mask` (uint8 0/1, or None without include_mask), read-only views of the received bytes. Tile b's voxel
    [i, j, k] is the volume's voxel origins[b] + (i, j, k), all in NRRD axis order; past an edge the volume
    does not cover, tiles hold the pad value (masks 0)."""

    series_uid: str
    series_index: int  # position of the series in the request's list
    series_count: int
    volume_shape: tuple[int, int, int]
    grid: tuple[int, int, int]  # tiles per axis
    first_tile: int  # number of image[0] in its series (axis 0 slowest)
    tiles_in_series: int
    image: np.ndarray
    mask: np.ndarray | None
    origins: tuple[tuple[int, int, int], ...]
    spacing: tuple[float, float, float] | None  # mm per axis from the image header; None when unknown

    @property
    def tile_size(self) -> tuple[int, int, int]:
        return tuple(self.image.shape[1:])  # type: ignore[return-value]

    @property
    def ends_series(self) -> bool:
        """Whether this batch holds its series' last tile."""
        return self.first_tile + self.image.shape[0] == self.tiles_in_series


def decode_tile_batch(raw: bytes) -> TileBatch:
    """A TileBatch from the bytes of one message; the tensors are views into `raw`."""
    meta, shape, image_span, mask_span = parse_head(raw, pb.TileBatch, TILE_BATCH_FIELDS, "tile batch", "t")
    if len(meta.volume_shape) != 3 or len(meta.grid) != 3:
        raise MalformedBatch(f"volume_shape {list(meta.volume_shape)} and grid {list(meta.grid)} need 3 values each")
    if len(meta.origins) != 3 * shape[0]:
        raise MalformedBatch(f"{len(meta.origins)} origin values for {shape[0]} tiles; expected {3 * shape[0]}")
    if meta.tiles_in_series != math.prod(meta.grid) or meta.first_tile + shape[0] > meta.tiles_in_series:
        raise MalformedBatch(
            f"tiles {meta.first_tile}..{meta.first_tile + shape[0] - 1} do not fit a grid of {list(meta.grid)} "
            f"({meta.tiles_in_series} tiles)"
        )
    if len(meta.spacing) not in (0, 3):
        raise MalformedBatch(f"spacing {list(meta.spacing)} needs 3 values, or none")
    image, mask = tensor_views(raw, image_span, mask_span, meta.dtype, shape)
    origins = tuple(tuple(meta.origins[3 * b : 3 * b + 3]) for b in range(shape[0]))
    return TileBatch(
        series_uid=meta.series_uid,
        series_index=meta.series_index,
        series_count=meta.series_count,
        volume_shape=tuple(meta.volume_shape),  # type: ignore[arg-type]
        grid=tuple(meta.grid),  # type: ignore[arg-type]
        first_tile=meta.first_tile,
        tiles_in_series=meta.tiles_in_series,
        image=image,
        mask=mask,
        origins=origins,  # type: ignore[arg-type]
        spacing=tuple(meta.spacing) if meta.spacing else None,  # type: ignore[arg-type]
    )
