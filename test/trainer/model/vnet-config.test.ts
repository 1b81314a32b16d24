import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VoxelfeedError } from '../../../server/errors.js';
import {
  resolveVNetConfig,
  VNET_PAPER,
  VNET_TINY,
  vnetParameterCount,
} from '../../../trainer/model/vnet-config.js';

describe('resolveVNetConfig', () => {
  it("fills convsPerStage with the paper's 1, 2, 3, 3, ... pattern", () => {
    const { convsPerStage: _, ...noConvs } = VNET_PAPER;
    assert.deepEqual(resolveVNetConfig(noConvs).convsPerStage, [1, 2, 3, 3, 3]);
    assert.deepEqual(resolveVNetConfig({ ...noConvs, depth: 2 }).convsPerStage, [1, 2]);
  });

  it('reports every invalid field at once, with the fix', () => {
    assert.throws(
      () =>
        resolveVNetConfig({
          ...VNET_TINY,
          depth: 1,
          kernelSize: 4,
          baseChannels: 0,
          normalization: 'group' as 'none',
        }),
      (error: unknown) =>
        error instanceof VoxelfeedError &&
        error.code === 'INVALID_ARGUMENT' &&
        error.message.includes('depth is 1; use an integer from 2 to 8') &&
        error.message.includes('kernelSize is 4; use an odd positive integer') &&
        error.message.includes('baseChannels is 0') &&
        error.message.includes("normalization is 'group'"),
    );
    assert.throws(
      () => resolveVNetConfig({ ...VNET_TINY, convsPerStage: [1, 1] }),
      /convsPerStage has 2 values for depth 3; give one per stage/,
    );
  });
});

describe('vnetParameterCount', () => {
  it('sizes the paper V-Net at about 65 million parameters without allocating it', () => {
    // Summed by hand stage by stage: encoder (convs, biases, PReLUs, down-convs) 32,865,968; decoder (up-convs
    // and stages) 32,309,280; head 66. createVNet(VNET_PAPER).parameterCount() gives the same. Most of it is
    // the six 5x5x5 convolutions at 256 channels of the bottom stage and the decoder stage above it.
    const count = vnetParameterCount(VNET_PAPER);
    assert.equal(count, 65_175_314);
    assert.ok(count > 6 * 125 * 256 * 256);
  });
});
