"""The PyTorch V-Net: config checks, parameter count, seeding, shapes and input checks."""

import pytest
import torch

from voxelfeed.torch.vnet import VNET_PAPER, VNET_TINY, VNet, VNetConfig, parameter_count

CONFIGS = [
    VNET_TINY,
    VNET_TINY.with_(normalization="batch", head="softmax2"),
    VNET_TINY.with_(normalization="none", in_channels=2, convs_per_stage=(2, 3, 1)),
    VNetConfig(base_channels=2, depth=2, kernel_size=1, normalization="instance", head="sigmoid"),
]


def test_fills_convs_per_stage_with_the_papers_pattern():
    assert VNetConfig(depth=5).convs_per_stage == (1, 2, 3, 3, 3)
    assert VNetConfig(depth=2).convs_per_stage == (1, 2)


def test_reports_every_invalid_field_at_once_with_the_fix():
    with pytest.raises(ValueError) as caught:
        VNetConfig(depth=1, kernel_size=4, base_channels=0, normalization="group", head="relu", seed=1.5)
    message = str(caught.value)
    assert "depth is 1; use an integer from 2 to 8" in message
    assert "kernel_size is 4; use an odd positive integer" in message
    assert "base_channels is 0" in message
    assert "normalization is 'group'" in message
    assert "head is 'relu'" in message
    assert "seed is 1.5" in message
    with pytest.raises(ValueError, match="convs_per_stage has 2 values for depth 3; give one per stage"):
        VNET_TINY.with_(convs_per_stage=(1, 1))


def test_round_trips_through_a_plain_dict():
    config = VNET_TINY.with_(seed=7)
    assert VNetConfig(**config.to_dict()) == config


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_counts_the_parameters_the_module_has(config):
    assert VNet(config).parameter_count() == parameter_count(config)


def test_sizes_the_paper_vnet_at_65_million_parameters_without_allocating_it():
    assert parameter_count(VNET_PAPER) == 65_175_314


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_maps_a_batch_to_one_logit_channel_per_head_class(config):
    x = torch.rand(2, config.in_channels, 8, 8, 4)
    logits = VNet(config)(x)
    assert logits.shape == (2, config.head_channels, 8, 8, 4)
    assert torch.isfinite(logits).all()


def test_draws_equal_weights_from_equal_seeds_and_other_weights_from_other_seeds():
    torch.manual_seed(0)
    a = VNet(VNET_TINY).state_dict()
    torch.manual_seed(99)  # the global RNG plays no part
    b = VNet(VNET_TINY).state_dict()
    c = VNet(VNET_TINY.with_(seed=2)).state_dict()
    assert all(torch.equal(a[name], b[name]) for name in a)
    assert not all(torch.equal(a[name], c[name]) for name in a)


def test_refuses_a_crop_that_does_not_divide_naming_a_crop_that_does():
    with pytest.raises(ValueError, match=r"crop 8x16x15 is not divisible by 4 .* on axis 2; .*8,16,16"):
        VNet(VNET_TINY)(torch.rand(1, 1, 8, 16, 15))


def test_refuses_channels_last_input_naming_the_expected_layout():
    with pytest.raises(ValueError, match=r"expected a float tensor \[batch, 1, s0, s1, s2\] \(channels first\)"):
        VNet(VNET_TINY)(torch.rand(1, 8, 16, 16, 1))


def test_learns_a_fixed_batch():
    torch.manual_seed(0)
    model = VNet(VNET_TINY)
    from voxelfeed.torch.losses import dice_bce_loss

    x = torch.rand(2, 1, 8, 16, 16)
    mask = (x[:, 0] > 0.7).to(torch.uint8)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(15):
        optimizer.zero_grad()
        loss = dice_bce_loss(model(x), mask)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0], losses
