"""The tile grid as the wire contract documents it (StreamTilesRequest in the .proto), written out here
independently of the package, to cut tiles from numpy volumes the way the server does."""

from __future__ import annotations

import itertools
import math

import numpy as np


def axis_origins(volume: int, tile: int, overlap: float) -> list[int]:
    """V <= T: one tile at 0; else n = ceil((V - T) / s) + 1 tiles, s = max(1, T (1 - o)), at
    floor(i (V - T) / (n - 1) + 1/2)."""
    if volume <= tile:
        return [0]
    step = max(1.0, tile * (1 - overlap))
    n = math.ceil((volume - tile) / step) + 1
    return [math.floor(i * (volume - tile) / (n - 1) + 0.5) for i in range(n)]


def grid_origins(volume_shape, tile_size, overlap) -> list[tuple[int, int, int]]:
    """Every tile's origin in the server's order (axis 0 slowest)."""
    overlaps = overlap if isinstance(overlap, (tuple, list)) else (overlap,) * 3
    axes = [axis_origins(v, t, o) for v, t, o in zip(volume_shape, tile_size, overlaps)]
    return list(itertools.product(*axes))


def cut_tiles(volume: np.ndarray, tile_size, overlap, pad=0):
    """(origin, tile) pairs in the server's order; tiles padded with `pad` past an edge the volume does not
    cover."""
    tiles = []
    for origin in grid_origins(volume.shape, tile_size, overlap):
        tile = np.full(tile_size, pad, dtype=volume.dtype)
        part = tuple(slice(o, min(o + t, v)) for o, t, v in zip(origin, tile_size, volume.shape))
        tile[tuple(slice(0, s.stop - s.start) for s in part)] = volume[part]
        tiles.append((origin, tile))
    return tiles
