"""How much each voxel of a tile's prediction counts when overlapping tiles are averaged.

A prediction is least reliable near a tile's border, where the network saw the least context; nnU-Net
therefore weights each tile by a Gaussian centred on the tile. Its map is a delta at voxel T // 2 of each axis,
filtered with sigma = T / 8 per axis (scipy's gaussian_filter, mode constant, truncated at 4 sigma), scaled to a
maximum of 1, with zeros replaced by the smallest non-zero value so that every voxel a tile covers gets some
weight. Filtering a delta is separable: the map is the outer product of one such profile per axis, computed
here without scipy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

WEIGHTINGS = ("gaussian", "constant")
SIGMA_SCALE = 1 / 8  # sigma = tile size / 8 per axis, as nnU-Net
TRUNCATE = 4.0  # scipy.ndimage.gaussian_filter's default: the kernel ends at 4 sigma


def importance_map(tile_size: Sequence[int], weighting: str = "gaussian") -> np.ndarray:
    """The float32 weights [t0, t1, t2] of one tile: all 1 for "constant", nnU-Net's Gaussian for "gaussian"."""
    size = check_tile_size(tile_size)
    if weighting == "constant":
        return np.ones(size, dtype=np.float32)
    if weighting != "gaussian":
        raise ValueError(f"weighting is {weighting!r}; use 'gaussian' (nnU-Net) or 'constant' (plain average)")
    profiles = [gaussian_profile(t) for t in size]
    weights = profiles[0][:, None, None] * profiles[1][None, :, None] * profiles[2][None, None, :]
    positive = weights[weights > 0]
    # Never taken for sigma = T / 8 (the kernel reaches every voxel), kept for nnU-Net's definition.
    weights[weights == 0] = positive.min()
    return weights.astype(np.float32)


def gaussian_profile(size: int) -> np.ndarray:
    """One axis of the Gaussian map, float64, maximum 1 at index size // 2: scipy's kernel for
    sigma = size / 8 divided by its centre value (that scale cancels in the normalisation to max 1)."""
    sigma = size * SIGMA_SCALE
    radius = int(TRUNCATE * sigma + 0.5)
    offset = np.arange(size, dtype=np.float64) - size // 2
    profile = np.exp(-0.5 * (offset / sigma) ** 2)
    profile[np.abs(offset) > radius] = 0.0
    return profile


def check_tile_size(tile_size: Sequence[int]) -> tuple[int, int, int]:
    """tile_size as three ints >= 1, or ValueError naming it."""
    sized = hasattr(tile_size, "__len__") and not isinstance(tile_size, (str, bytes))
    if not sized or len(tile_size) != 3 or not all(_is_count(t) for t in tile_size):
        raise ValueError(f"tile_size is {tile_size!r}; give 3 integers >= 1 (t0, t1, t2), e.g. (16, 96, 96)")
    return tuple(int(t) for t in tile_size)  # type: ignore[return-value]


def _is_count(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1
