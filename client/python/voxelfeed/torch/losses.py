"""Segmentation losses and metrics of the V-Net, the same definitions as the TypeScript trainer's.

Logits are the V-Net's [B, 1 | 2, s0, s1, s2] output (`foreground_logit` folds either head into one logit per
voxel); masks are [B, s0, s1, s2] (or [B, 1, s0, s1, s2]), values 0 or 1 in any dtype. Every loss and metric is
one ratio or mean over all voxels of the batch, so a batch with a nodule-free crop is still well defined.
"""

from __future__ import annotations

import torch

#: Smoothing of the soft Dice: negligible against a batch's voxel counts, and keeps 0/0 finite.
DICE_SMOOTHING = 1.0


def foreground_logit(logits: torch.Tensor) -> torch.Tensor:
    """The foreground logit [B, s0, s1, s2] of either head.

    For the two-channel softmax head, softmax(l0, l1)[1] = sigmoid(l1 - l0), so the difference is an exact
    foreground logit: both heads then share one sigmoid, one Dice and one stable binary cross-entropy (which for
    two classes equals the softmax cross-entropy).
    """
    if logits.dim() != 5 or logits.shape[1] not in (1, 2):
        raise ValueError(
            f"logits {list(logits.shape)} are not [B, 1 | 2, s0, s1, s2]; a V-Net head gives 1 (sigmoid) "
            "or 2 (softmax2) channels"
        )
    if logits.shape[1] == 1:
        return logits[:, 0]
    return logits[:, 1] - logits[:, 0]


def foreground_probability(logits: torch.Tensor) -> torch.Tensor:
    """The probability of the foreground [B, s0, s1, s2] under either head."""
    return torch.sigmoid(foreground_logit(logits))


def soft_dice_loss(probabilities: torch.Tensor, mask: torch.Tensor, epsilon: float = DICE_SMOOTHING) -> torch.Tensor:
    """1 - (2 sum(p y) + eps) / (sum(p) + sum(y) + eps) over the whole batch (Milletari et al. 2016, eq. 1,
    with the squares in the denominator dropped as most implementations do)."""
    y = _as_float_like(mask, probabilities)
    intersection = (probabilities * y).sum()
    total = probabilities.sum() + y.sum()
    return 1 - (2 * intersection + epsilon) / (total + epsilon)


def bce_with_logits(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy in the stable form max(x, 0) - x y + log(1 + exp(-|x|)): the exponential never
    overflows and log1p keeps precision near 0, so logits of +-100 give a finite loss and gradient."""
    y = _as_float_like(mask, logits)
    return (torch.relu(logits) - logits * y + torch.log1p(torch.exp(-logits.abs()))).mean()


def dice_bce_loss(
    logits: torch.Tensor, mask: torch.Tensor, dice_weight: float = 1.0, bce_weight: float = 1.0
) -> torch.Tensor:
    """dice_weight * soft Dice + bce_weight * BCE, from either head's logits: the trainers' training loss."""
    logit = foreground_logit(logits)
    return dice_weight * soft_dice_loss(torch.sigmoid(logit), mask) + bce_weight * bce_with_logits(logit, mask)


@torch.no_grad()
def batch_dice(probabilities: torch.Tensor, mask: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Dice of the thresholded prediction (p >= threshold) over the whole batch: 2 |P n Y| / (|P| + |Y|), and 1
    when both are empty (nothing to find, nothing found: a perfect answer)."""
    predicted = (probabilities >= threshold).float()
    y = (_as_float_like(mask, probabilities) > 0).float()
    intersection = (predicted * y).sum()
    total = predicted.sum() + y.sum()
    return torch.where(total == 0, torch.ones_like(total), 2 * intersection / total.clamp(min=1))


def _as_float_like(mask: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """The mask as float in the shape of `like`, accepting a channel axis of 1 ([B, 1, s0, s1, s2]) on either."""
    if _without_channel(mask.shape) != _without_channel(like.shape):
        raise ValueError(
            f"mask {list(mask.shape)} does not match the prediction {list(like.shape)}; "
            "pass one mask value per voxel, [B, s0, s1, s2]"
        )
    return mask.to(dtype=like.dtype if like.is_floating_point() else torch.float32).reshape(like.shape)


def _without_channel(shape: torch.Size) -> tuple:
    return tuple(shape[:1]) + tuple(shape[2:]) if len(shape) == 5 and shape[1] == 1 else tuple(shape)
