"""Losses and Dice of the V-Net (their agreement with the TypeScript trainer is an integration test)."""

import pytest
import torch

from voxelfeed.torch.losses import (
    batch_dice,
    bce_with_logits,
    dice_bce_loss,
    foreground_logit,
    foreground_probability,
    soft_dice_loss,
)


def box_mask() -> torch.Tensor:
    mask = torch.zeros(2, 4, 4, 4)
    mask[0, :2, :2, :2] = 1
    mask[1, 2, 1:3, 1:4] = 1
    return mask


def test_a_perfect_prediction_has_loss_0_and_dice_1():
    mask = box_mask()
    assert abs(soft_dice_loss(mask, mask).item()) < 1e-6
    assert batch_dice(mask, mask).item() == 1


def test_dice_is_1_when_prediction_and_mask_are_both_empty_and_0_when_only_one_is():
    empty = torch.zeros(1, 4, 4, 4)
    assert batch_dice(empty, empty).item() == 1
    assert batch_dice(box_mask()[:1], empty).item() == 0


def test_bce_stays_finite_for_huge_logits():
    logits = torch.tensor([[[[100.0, -100.0]]]], requires_grad=True)
    loss = bce_with_logits(logits, torch.tensor([[[[0, 1]]]], dtype=torch.uint8))
    loss.backward()
    assert loss.item() == pytest.approx(100.0)
    assert torch.isfinite(logits.grad).all()


def test_bce_equals_torchs_own():
    logits = torch.randn(2, 3, 4, 5, generator=torch.Generator().manual_seed(1)) * 4
    mask = (torch.rand(2, 3, 4, 5, generator=torch.Generator().manual_seed(2)) > 0.5).float()
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits, mask)
    assert bce_with_logits(logits, mask).item() == pytest.approx(expected.item(), abs=1e-6)


def test_both_heads_give_the_same_foreground_for_the_same_logit_difference():
    l0 = torch.randn(2, 1, 2, 2, 2)
    l1 = torch.randn(2, 1, 2, 2, 2)
    two = torch.cat([l0, l1], dim=1)
    assert torch.allclose(foreground_logit(two), (l1 - l0)[:, 0])
    assert torch.allclose(foreground_probability(two), torch.softmax(two, dim=1)[:, 1], atol=1e-6)
    mask = box_mask()[:, :2, :2, :2]
    assert torch.allclose(dice_bce_loss(two, mask), dice_bce_loss(l1 - l0, mask))


def test_accepts_a_mask_with_a_channel_axis_and_refuses_one_of_another_shape():
    mask = box_mask()
    assert soft_dice_loss(mask, mask[:, None]).item() == pytest.approx(0, abs=1e-6)
    with pytest.raises(ValueError, match=r"mask \[2, 4, 4, 4\] does not match the prediction \[2, 4, 4\]"):
        soft_dice_loss(torch.zeros(2, 4, 4), mask)


def test_refuses_logits_with_three_channels():
    with pytest.raises(ValueError, match="1 \\(sigmoid\\) or 2 \\(softmax2\\) channels"):
        foreground_logit(torch.zeros(1, 3, 2, 2, 2))
