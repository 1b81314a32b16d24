"""Why crops must be multiples of 2^(depth-1): a V-Net of depth d halves every side d - 1 times and doubles it
back, then concatenates each decoder level with its encoder twin. A side that does not divide fails deep inside
the network, in a `torch.cat` whose error names neither the crop nor the depth; this check names both."""

from __future__ import annotations

from typing import Sequence


def check_crop_divisible(spatial_shape: Sequence[int], depth: int, flag: str = "--crop") -> None:
    """Raises ValueError naming the crop, the factor and a crop that works, unless every side divides."""
    factor = 2 ** (depth - 1)
    sides = [int(side) for side in spatial_shape]
    bad = [axis for axis, side in enumerate(sides) if side <= 0 or side % factor != 0]
    if not bad:
        return
    fixed = ",".join(str(max(factor, -(-side // factor) * factor)) for side in sides)
    crop = "x".join(str(side) for side in sides)
    axes = ", ".join(str(axis) for axis in bad)
    raise ValueError(
        f"crop {crop} is not divisible by {factor} (2^(depth-1) for depth {depth}) on axis {axes}; "
        f"use a crop whose sides are multiples of {factor}, e.g. {flag} {fixed}, or lower the depth"
    )
