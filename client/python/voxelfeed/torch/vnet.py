"""A PyTorch V-Net (Milletari et al. 2016) with the architecture and config of the TypeScript trainer's.

Level l of depth d has C_l = base_channels * 2^l channels. Tensors are channels first, [B, C, s0, s1, s2].

- Encoder stage l: convs_per_stage[l] k x k x k convolutions with 'same' padding, each followed by a conv unit
  (bias or norm, PReLU); the stage input is added before the last PReLU (as is when its channels match or it
  has one channel, which broadcasts as the paper's replicated input does; else through a 1x1x1 projection).
  Then, on every level but the bottom one, a 2x2x2 stride-2 convolution to C_(l+1) channels + unit.
- Decoder stage l (d-2 up to 0): a 2x2x2 stride-2 transposed convolution to C_l channels + unit, concatenated
  with encoder stage l's output (upsampled first, 2 C_l channels), then convs_per_stage[l] convolutions at
  2 C_l with the concatenation as residual.
- Head: a 1x1x1 convolution with bias to 1 ('sigmoid') or 2 ('softmax2') logit channels.

The initial weights follow the TypeScript trainer's scheme (He-normal for convolutions followed by PReLU,
Glorot-normal for projections and the head, zero biases, PReLU slope 0.25), drawn from a generator seeded with
`config.seed`, so equal seeds give equal weights without touching torch's global RNG.
"""

from __future__ import annotations

from typing import List, Optional

import torch
from torch import nn

from .check_crop_divisible import check_crop_divisible
from .conv_unit import ConvUnit, glorot_std, he_std
from .losses import foreground_probability
from .vnet_config import PRESETS, VNET_PAPER, VNET_TINY, VNetConfig, parameter_count

__all__ = ["VNet", "VNetConfig", "VNET_PAPER", "VNET_TINY", "PRESETS", "parameter_count"]


class Stage(nn.Module):
    """convs k x k x k at `channels`, each with its unit; the stage input is the last unit's residual."""

    def __init__(self, in_channels: int, channels: int, convs: int, kernel_size: int, normalization: str):
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv3d(in_channels if i == 0 else channels, channels, kernel_size, padding=kernel_size // 2, bias=False)
            for i in range(convs)
        )
        self.units = nn.ModuleList(ConvUnit(channels, normalization) for _ in range(convs))
        adds_as_is = in_channels in (channels, 1)
        self.projection: Optional[nn.Conv3d] = (
            None if adds_as_is else nn.Conv3d(in_channels, channels, 1, bias=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.projection is None else self.projection(x)
        y = x
        last = len(self.convs) - 1
        for i, (conv, unit) in enumerate(zip(self.convs, self.units)):
            y = unit(conv(y), residual if i == last else None)
        return y


class VNet(nn.Module):
    """`VNet(config)(x)` maps float [B, in_channels, s0, s1, s2] to logits [B, 1 | 2, s0, s1, s2]; every side
    must be a multiple of 2^(depth-1)."""

    def __init__(self, config: VNetConfig = VNET_TINY) -> None:
        super().__init__()
        if not isinstance(config, VNetConfig):
            raise TypeError(f"config is {type(config).__name__}; pass a VNetConfig (e.g. VNET_TINY or VNET_PAPER)")
        self.config = config
        c = config
        k, norm = c.kernel_size, c.normalization
        self.encoder = nn.ModuleList()
        self.down = nn.ModuleList()
        self.down_units = nn.ModuleList()
        for level in range(c.depth):
            channels = c.level_channels(level)
            in_channels = c.in_channels if level == 0 else channels
            self.encoder.append(Stage(in_channels, channels, c.stage_convs[level], k, norm))
            if level < c.depth - 1:
                self.down.append(nn.Conv3d(channels, 2 * channels, 2, stride=2, bias=False))
                self.down_units.append(ConvUnit(2 * channels, norm))
        # Indexed by level (0 at the top); built top-down, run bottom-up.
        self.up = nn.ModuleList()
        self.up_units = nn.ModuleList()
        self.decoder = nn.ModuleList()
        for level in range(c.depth - 1):
            channels = c.level_channels(level)
            below = c.level_channels(c.depth - 1) if level == c.depth - 2 else 2 * c.level_channels(level + 1)
            self.up.append(nn.ConvTranspose3d(below, channels, 2, stride=2, bias=False))
            self.up_units.append(ConvUnit(channels, norm))
            self.decoder.append(Stage(2 * channels, 2 * channels, c.stage_convs[level], k, norm))
        self.head = nn.Conv3d(2 * c.level_channels(0), c.head_channels, 1, bias=True)
        self._initialise(torch.Generator().manual_seed(c.seed))

    def _initialise(self, generator: torch.Generator) -> None:
        k3 = self.config.kernel_size**3

        def normal(weight: torch.Tensor, std: float) -> None:
            weight.copy_(torch.randn(weight.shape, generator=generator) * std)

        with torch.no_grad():
            for stage in [*self.encoder, *self.decoder]:
                for conv in stage.convs:
                    normal(conv.weight, he_std(k3 * conv.in_channels))
                if stage.projection is not None:
                    p = stage.projection
                    normal(p.weight, glorot_std(p.in_channels, p.out_channels))
            for conv in self.down:
                normal(conv.weight, he_std(8 * conv.in_channels))
            for conv in self.up:
                # Each output voxel of a 2x2x2 stride-2 up-convolution sees exactly one input voxel.
                normal(conv.weight, he_std(conv.in_channels))
            normal(self.head.weight, glorot_std(self.head.in_channels, self.head.out_channels))
            self.head.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        skips: List[torch.Tensor] = []
        h = x
        for level, stage in enumerate(self.encoder):
            h = stage(h)
            if level < len(self.down):
                skips.append(h)
                h = self.down_units[level](self.down[level](h))
        for level in range(len(self.decoder) - 1, -1, -1):
            upsampled = self.up_units[level](self.up[level](h))
            h = self.decoder[level](torch.cat([upsampled, skips[level]], dim=1))
        return self.head(h)

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Foreground probabilities [B, s0, s1, s2] under either head (call `.eval()` first for batch norm)."""
        return foreground_probability(self(x))

    def check_input(self, x: torch.Tensor) -> None:
        """ValueError naming the shape and what fits, rather than a shape error deep inside the network."""
        c = self.config
        if x.dim() != 5 or x.shape[1] != c.in_channels or not x.is_floating_point():
            raise ValueError(
                f"V-Net input is {x.dtype} {list(x.shape)}; expected a float tensor "
                f"[batch, {c.in_channels}, s0, s1, s2] (channels first)"
            )
        check_crop_divisible(x.shape[2:], c.depth)

    def parameter_count(self) -> int:
        """Trainable scalars, the usual "parameter count" (batch norm's running statistics excluded)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)
