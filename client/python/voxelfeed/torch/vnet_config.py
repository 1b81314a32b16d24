"""The shape of a PyTorch V-Net, field for field the TypeScript trainer's `VNetConfig`.

The config is checked once, when it is made, and every problem is reported in one `ValueError` that names the
value and the fix, so a user who got three fields wrong learns it from one run. `parameter_count` sizes a
network from the architecture alone (no tensor is allocated), and must equal the TypeScript trainer's
`vnetParameterCount` for the same config: the two trainers train the same network.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Optional, Tuple

MAX_DEPTH = 8
NORMALIZATIONS = ("none", "instance", "batch")
HEADS = ("sigmoid", "softmax2")


@dataclass(frozen=True)
class VNetConfig:
    """A V-Net (Milletari, Navab and Ahmadi 2016). Level l (0 = full resolution) has `base_channels * 2**l`
    channels in the encoder and twice that in the decoder (up-convolution plus skip connection)."""

    in_channels: int = 1
    #: Channels of the first stage: 16 in the paper.
    base_channels: int = 16
    #: Resolution stages, the bottom one included: 5 in the paper (16, 32, 64, 128, 256 channels).
    depth: int = 5
    #: Side of the cubic convolution kernel inside a stage: 5 in the paper.
    kernel_size: int = 5
    #: Convolutions of stage l, used by its encoder and decoder stage alike; None: the paper's 1, 2, 3, 3, ...
    convs_per_stage: Optional[Tuple[int, ...]] = None
    #: After every convolution: 'none' (a bias, as in the paper), 'instance' or 'batch' normalisation.
    normalization: str = "none"
    #: 'sigmoid': one logit per voxel; 'softmax2': background and foreground logits, as in the paper.
    head: str = "softmax2"
    #: Seeds every initial weight: equal seeds give equal weights.
    seed: int = 1

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ValueError("invalid V-Net config: " + "; ".join(problems))
        if self.convs_per_stage is None:
            object.__setattr__(self, "convs_per_stage", _default_convs(self.depth))
        else:
            object.__setattr__(self, "convs_per_stage", tuple(self.convs_per_stage))

    @property
    def stage_convs(self) -> Tuple[int, ...]:
        """`convs_per_stage`, filled in (typed without the Optional)."""
        assert self.convs_per_stage is not None  # filled by __post_init__
        return self.convs_per_stage

    @property
    def head_channels(self) -> int:
        return 1 if self.head == "sigmoid" else 2

    def level_channels(self, level: int) -> int:
        """Encoder channels of resolution level `level`."""
        return self.base_channels * 2**level

    def with_(self, **changes: Any) -> "VNetConfig":
        """A copy with some fields changed (and checked again)."""
        return replace(self, **changes)

    def to_dict(self) -> dict:
        """Plain values, for a checkpoint: `VNetConfig(**config.to_dict())` gives the config back."""
        values = asdict(self)
        values["convs_per_stage"] = list(self.stage_convs)
        return values


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_positive_int(value: Any) -> bool:
    return _is_int(value) and value >= 1


def _default_convs(depth: int) -> Tuple[int, ...]:
    """The paper's pattern 1, 2, 3, 3, ... for any depth."""
    return tuple(min(level + 1, 3) for level in range(depth))


def _problems(c: VNetConfig) -> list:
    problems = []
    if not _is_positive_int(c.in_channels):
        problems.append(f"in_channels is {c.in_channels!r}; use a positive integer (1 for CT)")
    if not _is_positive_int(c.base_channels):
        problems.append(f"base_channels is {c.base_channels!r}; use a positive integer (16 in the paper)")
    depth_ok = _is_int(c.depth) and 2 <= c.depth <= MAX_DEPTH
    if not depth_ok:
        problems.append(f"depth is {c.depth!r}; use an integer from 2 to {MAX_DEPTH} (5 in the paper)")
    if not _is_positive_int(c.kernel_size) or c.kernel_size % 2 == 0:
        problems.append(f"kernel_size is {c.kernel_size!r}; use an odd positive integer (5 in the paper)")
    convs = c.convs_per_stage
    if convs is None:
        convs = _default_convs(c.depth) if depth_ok else ()
    try:
        convs = tuple(convs)
    except TypeError:
        problems.append(f"convs_per_stage is {convs!r}; give a list with one positive integer per stage")
        convs = ()
    if depth_ok and len(convs) != c.depth:
        problems.append(f"convs_per_stage has {len(convs)} values for depth {c.depth}; give one per stage")
    if not all(_is_positive_int(n) for n in convs):
        problems.append(f"convs_per_stage is {list(convs)}; each value must be a positive integer")
    if c.normalization not in NORMALIZATIONS:
        problems.append(f"normalization is {c.normalization!r}; use 'none', 'instance' or 'batch'")
    if c.head not in HEADS:
        problems.append(f"head is {c.head!r}; use 'sigmoid' or 'softmax2'")
    if not _is_int(c.seed):
        problems.append(f"seed is {c.seed!r}; use an integer")
    return problems


#: The network of the paper: 16 to 256 channels over 5 levels, 5x5x5 kernels, 1/2/3/3/3 convolutions.
VNET_PAPER = VNetConfig(
    in_channels=1,
    base_channels=16,
    depth=5,
    kernel_size=5,
    convs_per_stage=(1, 2, 3, 3, 3),
    normalization="none",
    head="softmax2",
    seed=1,
)

#: A V-Net small enough for tests and CPU runs: 4 to 16 channels, 3x3x3 kernels, one convolution per stage.
VNET_TINY = VNetConfig(
    in_channels=1,
    base_channels=4,
    depth=3,
    kernel_size=3,
    convs_per_stage=(1, 1, 1),
    normalization="instance",
    head="sigmoid",
    seed=1,
)

PRESETS = {"paper": VNET_PAPER, "tiny": VNET_TINY}


def parameter_count(config: VNetConfig) -> int:
    """The trainable parameters `VNet(config)` has, from the architecture alone (running statistics excluded):
    it sizes VNET_PAPER (65 M parameters, 260 MB of float32) without allocating it."""
    c = config
    k3 = c.kernel_size**3
    # PReLU slopes plus a bias (no norm) or gamma and beta (instance or batch norm).
    per_unit = 2 if c.normalization == "none" else 3

    def stage(level: int, in_channels: int, channels: int) -> int:
        convs = c.stage_convs[level]
        weights = k3 * in_channels * channels + (convs - 1) * k3 * channels * channels
        projection = 0 if in_channels in (channels, 1) else in_channels * channels
        return weights + convs * per_unit * channels + projection

    total = 0
    for level in range(c.depth):
        channels = c.level_channels(level)
        total += stage(level, c.in_channels if level == 0 else channels, channels)
        if level < c.depth - 1:
            total += 8 * channels * 2 * channels + per_unit * 2 * channels
    for level in range(c.depth - 2, -1, -1):
        channels = c.level_channels(level)
        below = c.level_channels(c.depth - 1) if level == c.depth - 2 else 2 * c.level_channels(level + 1)
        total += below * 8 * channels + per_unit * channels + stage(level, 2 * channels, 2 * channels)
    return total + 2 * c.level_channels(0) * c.head_channels + c.head_channels
