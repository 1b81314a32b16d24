import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { VoxelfeedError } from '../../../server/errors.js';
import { silenceCpuBanner } from '../../../trainer/backend/silence-cpu-banner.js';
import { createVNet } from '../../../trainer/model/vnet.js';
import { VNET_TINY, type VNetConfig, vnetParameterCount } from '../../../trainer/model/vnet-config.js';

const SMALL: VNetConfig = { ...VNET_TINY, baseChannels: 2 };

describe('createVNet', () => {
  before(async () => {
    await tf.setBackend('cpu');
    silenceCpuBanner();
  });

  const cases: {
    depth: number;
    head: VNetConfig['head'];
    normalization: VNetConfig['normalization'];
    crop: [number, number, number];
  }[] = [
    { depth: 2, head: 'sigmoid', normalization: 'none', crop: [8, 16, 16] },
    { depth: 2, head: 'softmax2', normalization: 'batch', crop: [2, 4, 6] },
    { depth: 3, head: 'sigmoid', normalization: 'instance', crop: [8, 16, 16] },
    { depth: 3, head: 'softmax2', normalization: 'none', crop: [16, 8, 4] },
    { depth: 4, head: 'softmax2', normalization: 'instance', crop: [8, 16, 16] },
    { depth: 4, head: 'sigmoid', normalization: 'batch', crop: [16, 8, 24] },
  ];
  for (const { depth, head, normalization, crop } of cases) {
    it(`maps a batch of ${crop.join('x')} crops to logits and probabilities of the same size (depth ${depth}, ${head}, ${normalization})`, () => {
      const net = createVNet({ ...SMALL, depth, head, normalization, convsPerStage: Array(depth).fill(1) });
      tf.tidy(() => {
        const x = tf.randomNormal([2, ...crop, 1], 0, 1, 'float32', 1) as tf.Tensor5D;
        for (const training of [true, false]) {
          assert.deepEqual(net.apply(x, training).shape, [2, ...crop, head === 'sigmoid' ? 1 : 2]);
        }
        const probabilities = net.predict(x);
        assert.deepEqual(probabilities.shape, [2, ...crop]);
        const values = probabilities.dataSync();
        assert.ok(values.every((p) => p >= 0 && p <= 1));
      });
      net.dispose();
    });
  }

  it('refuses a crop not divisible by 2^(depth-1), naming the crop and the fix', () => {
    const net = createVNet(VNET_TINY); // depth 3: sides must be multiples of 4
    tf.tidy(() => {
      assert.throws(
        () => net.apply(tf.zeros([1, 8, 16, 18, 1]) as tf.Tensor5D, false),
        (error: unknown) =>
          error instanceof VoxelfeedError &&
          error.code === 'INVALID_ARGUMENT' &&
          error.message.includes('crop 8x16x18 is not divisible by 4') &&
          error.message.includes('on axis 2') &&
          error.message.includes('--crop 8,16,20'),
      );
      assert.throws(() => net.predict(tf.zeros([1, 6, 16, 16, 1]) as tf.Tensor5D), /crop 6x16x16 .* axis 0/);
    });
    net.dispose();
  });

  it('refuses an input that is not float32 [B, s0, s1, s2, 1]', () => {
    const net = createVNet(SMALL);
    tf.tidy(() => {
      assert.throws(
        () => net.apply(tf.zeros([1, 8, 8, 8, 2]) as tf.Tensor5D, false),
        /expected float32 \[batch, s0, s1, s2, 1\]/,
      );
      assert.throws(() => net.apply(tf.zeros([1, 8, 8, 8, 1], 'int32') as tf.Tensor5D, false), /int32/);
    });
    net.dispose();
  });

  it('starts two models with the same seed identical, and with another seed different', () => {
    const a = createVNet(VNET_TINY);
    const b = createVNet(VNET_TINY);
    const c = createVNet({ ...VNET_TINY, seed: 2 });
    assert.deepEqual([...a.variables.keys()], [...b.variables.keys()]);
    for (const [name, variable] of a.variables) {
      assert.deepEqual(variable.dataSync(), b.variables.get(name)!.dataSync(), name);
    }
    const kernel = (net: typeof a) => Array.from(net.variables.get('enc0/conv0/kernel')!.dataSync());
    assert.notDeepEqual(kernel(a), kernel(c));
    for (const net of [a, b, c]) net.dispose();
  });

  it('names its variables by stage and layer', () => {
    const net = createVNet({ ...VNET_TINY, normalization: 'batch' });
    const names = [...net.variables.keys()];
    for (const expected of [
      'enc0/conv0/kernel',
      'enc0/conv0/norm/gamma',
      'enc0/conv0/norm/movingMean',
      'enc0/conv0/prelu/alpha',
      'enc0/down/kernel',
      'enc2/conv0/kernel',
      'dec1/up/kernel',
      'dec0/conv0/kernel',
      'head/kernel',
      'head/bias',
    ]) {
      assert.ok(names.includes(expected), expected);
    }
    assert.deepEqual(net.variables.get('enc0/conv0/kernel')!.shape, [3, 3, 3, 1, 4]);
    assert.deepEqual(net.variables.get('enc0/down/kernel')!.shape, [2, 2, 2, 4, 8]);
    assert.deepEqual(net.variables.get('dec1/up/kernel')!.shape, [16, 8 * 8]); // from 16 channels to 8
    assert.deepEqual(net.variables.get('dec0/conv0/kernel')!.shape, [3, 3, 3, 8, 8]); // after the skip concat
    assert.equal(net.variables.get('enc0/conv0/norm/movingMean')!.trainable, false);
    assert.ok(!net.trainableVariables.includes(net.variables.get('enc0/conv0/norm/movingMean')!));
    net.dispose();
  });

  it('counts as many trainable parameters as the architecture formula, for several configs', () => {
    const configs: VNetConfig[] = [
      VNET_TINY,
      { ...VNET_TINY, normalization: 'none', head: 'softmax2' },
      { ...VNET_TINY, normalization: 'batch', depth: 4, convsPerStage: [1, 2, 3, 3] },
      { ...VNET_TINY, inChannels: 2, baseChannels: 3, kernelSize: 5, depth: 2, convsPerStage: [2, 1] },
    ];
    for (const config of configs) {
      const net = createVNet(config);
      assert.equal(net.parameterCount(), vnetParameterCount(config));
      net.dispose();
    }
  });

  it('counts the first stage by hand: 3x3x3 conv 1 -> 4 channels, instance norm and PReLU', () => {
    // 27 * 1 * 4 kernel + 4 gamma + 4 beta + 4 alpha
    const net = createVNet(VNET_TINY);
    const firstStage = [...net.variables].filter(([name]) => name.startsWith('enc0/conv'));
    assert.equal(
      firstStage.reduce((sum, [, v]) => sum + v.size, 0),
      27 * 4 + 3 * 4,
    );
    net.dispose();
  });

  it('releases every variable on dispose', () => {
    const before = tf.memory().numTensors;
    createVNet(VNET_TINY).dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});
