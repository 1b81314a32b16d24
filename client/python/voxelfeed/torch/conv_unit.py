"""What follows every linear map of the V-Net: a bias or a normalisation, the residual, then PReLU.

A bias before a normalisation would be subtracted again, so there is one or the other, exactly as in the
TypeScript trainer's conv unit; with 'none' the bias lives here rather than in the convolution so that both
trainers hold the same parameters under the same structure.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn

#: PReLU's initial slope for negative inputs, as in He et al. 2015 (the paper that introduced PReLU).
PRELU_INITIAL_ALPHA = 0.25
#: Keeps a normalisation finite on a constant channel; PyTorch's default, and the TypeScript trainer's.
NORM_EPSILON = 1e-5
#: Weight of the new batch in batch norm's running statistics (PyTorch's convention, the TypeScript default).
BATCH_NORM_MOMENTUM = 0.1


class ConvUnit(nn.Module):
    """Bias or norm, then `+ residual` (the V-Net's and ResNet's order: a stage learns a correction to its
    input), then PReLU with one learnt slope per channel. Works on [B, C, s0, s1, s2]."""

    def __init__(self, channels: int, normalization: str) -> None:
        super().__init__()
        self.bias: Optional[nn.Parameter] = None
        self.norm: Optional[nn.Module] = None
        if normalization == "none":
            self.bias = nn.Parameter(torch.zeros(channels))
        elif normalization == "instance":
            # Per sample and channel over the three spatial axes, the same in training and inference.
            self.norm = nn.InstanceNorm3d(channels, eps=NORM_EPSILON, affine=True)
        elif normalization == "batch":
            self.norm = nn.BatchNorm3d(channels, eps=NORM_EPSILON, momentum=BATCH_NORM_MOMENTUM)
        else:
            raise ValueError(f"normalization is {normalization!r}; use 'none', 'instance' or 'batch'")
        self.prelu = nn.PReLU(channels, init=PRELU_INITIAL_ALPHA)

    def forward(self, linear: torch.Tensor, residual: Optional[torch.Tensor] = None) -> torch.Tensor:
        if self.bias is not None:
            y = linear + self.bias.view(1, -1, 1, 1, 1)
        else:
            assert self.norm is not None
            y = self.norm(linear)
        if residual is not None:
            y = y + residual
        return self.prelu(y)


def he_std(fan_in: int) -> float:
    """He et al. 2015's initial standard deviation for a layer followed by PReLU with slope a:
    sqrt(2 / ((1 + a^2) fan_in)), which keeps the activations' variance steady through depth."""
    return (2.0 / ((1.0 + PRELU_INITIAL_ALPHA**2) * fan_in)) ** 0.5


def glorot_std(fan_in: int, fan_out: int) -> float:
    """Glorot and Bengio 2010's standard deviation for a linear layer (projections, the head)."""
    return (2.0 / (fan_in + fan_out)) ** 0.5
