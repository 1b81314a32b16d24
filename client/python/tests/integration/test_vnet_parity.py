"""The PyTorch V-Net has exactly the parameters of the TypeScript trainer's for the same config."""

from typescript_reference import run_typescript

from voxelfeed.torch.vnet import VNET_PAPER, VNET_TINY, VNet, VNetConfig, parameter_count

CONFIGS = [
    VNET_PAPER,
    VNET_TINY,
    VNET_PAPER.with_(normalization="batch", head="sigmoid", depth=4, convs_per_stage=None),
    VNET_TINY.with_(normalization="none", head="softmax2", in_channels=3, convs_per_stage=(2, 3, 1)),
    VNetConfig(base_channels=8, depth=6, kernel_size=3, normalization="instance", head="sigmoid"),
    VNetConfig(in_channels=2, base_channels=1, depth=2, kernel_size=1, normalization="none"),
]

COUNT_SOURCE = """
import { vnetParameterCount } from './trainer/model/vnet-config.ts';
console.log(JSON.stringify(input.map((c) => vnetParameterCount({
  inChannels: c.in_channels, baseChannels: c.base_channels, depth: c.depth, kernelSize: c.kernel_size,
  convsPerStage: c.convs_per_stage, normalization: c.normalization, head: c.head, seed: c.seed,
}))));
"""


def test_parameter_count_equals_the_typescript_vnet_parameter_count():
    expected = run_typescript(COUNT_SOURCE, [config.to_dict() for config in CONFIGS])
    assert [parameter_count(config) for config in CONFIGS] == expected
    assert expected[0] > 65_000_000  # VNET_PAPER


def test_the_modules_trainable_parameters_equal_the_typescript_count_for_small_configs():
    small = [config for config in CONFIGS if config.base_channels <= 8 and config.depth <= 3]
    expected = run_typescript(COUNT_SOURCE, [config.to_dict() for config in small])
    assert [VNet(config).parameter_count() for config in small] == expected
