import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { silenceCpuBanner } from '../../../trainer/backend/silence-cpu-banner.js';
import { batchDice, bceWithLogits, diceBceLoss, softDiceLoss } from '../../../trainer/model/losses.js';
import { registerTfjsGradients } from '../../../trainer/model/register-gradients.js';

const value = (t: tf.Tensor): number => t.dataSync()[0]!;

/** A [2, 4, 4, 4] mask with a 2x2x2 cube in the first sample and a 1x2x3 box in the second. */
function boxMask(): tf.Tensor4D {
  const data = new Float32Array(2 * 64);
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < 2; j++) for (let k = 0; k < 2; k++) data[i * 16 + j * 4 + k] = 1;
  for (let j = 1; j < 3; j++) for (let k = 1; k < 4; k++) data[64 + 2 * 16 + j * 4 + k] = 1;
  return tf.tensor4d(data, [2, 4, 4, 4]);
}

describe('softDiceLoss and batchDice', () => {
  before(async () => {
    await tf.setBackend('cpu');
    silenceCpuBanner();
  });

  it('give a perfect prediction loss 0 and Dice 1', () => {
    tf.tidy(() => {
      const mask = boxMask();
      assert.ok(Math.abs(value(softDiceLoss(mask, mask))) < 1e-6);
      assert.equal(value(batchDice(mask, mask)), 1);
    });
  });

  it('give a disjoint prediction loss close to 1 and Dice 0', () => {
    tf.tidy(() => {
      const mask = boxMask();
      const inverse = tf.sub(1, mask);
      // 1 - eps / (|P| + |Y| + eps) with 14 mask voxels and 114 predicted ones: 1 - 1/129.
      assert.ok(Math.abs(value(softDiceLoss(inverse, mask)) - (1 - 1 / 129)) < 1e-6);
      assert.equal(value(batchDice(inverse, mask)), 0);
    });
  });

  it('computes batchDice over the whole batch from thresholded probabilities', () => {
    tf.tidy(() => {
      // Prediction {0, 1} (p = 0.5 counts as foreground), mask {1, 2}: Dice = 2 * 1 / (2 + 2).
      const probabilities = tf.tensor2d([[0.9, 0.5, 0.49, 0.1]]);
      const mask = tf.tensor2d([[0, 1, 1, 0]]);
      assert.equal(value(batchDice(probabilities, mask)), 0.5);
      assert.equal(value(batchDice(probabilities, mask, 0.95)), 0);
      // Prediction {0, 1, 2}: Dice = 2 * 2 / (3 + 2).
      assert.ok(Math.abs(value(batchDice(probabilities, mask, 0.3)) - 0.8) < 1e-6);
    });
  });

  it('defines batchDice of an empty mask and an empty prediction as 1, and of one empty side as 0', () => {
    tf.tidy(() => {
      const empty = tf.zeros([2, 4, 4, 4]);
      const mask = boxMask();
      assert.equal(value(batchDice(empty, empty)), 1);
      assert.equal(value(batchDice(empty, mask)), 0);
      assert.equal(value(batchDice(mask, empty)), 0);
    });
  });

  it('accepts uint8 masks and a trailing channel of 1, and refuses a mask of another shape', () => {
    tf.tidy(() => {
      const mask = boxMask();
      const asUint8 = tf.cast(mask, 'int32');
      assert.equal(value(batchDice(mask, tf.reshape(asUint8, [2, 4, 4, 4, 1]))), 1);
      assert.throws(
        () => batchDice(mask, tf.zeros([2, 4, 4, 5])),
        /mask \[2,4,4,5\] does not match the prediction \[2,4,4,4\]/,
      );
    });
  });
});

describe('bceWithLogits', () => {
  before(async () => {
    await tf.setBackend('cpu');
    silenceCpuBanner();
    registerTfjsGradients();
  });

  it('equals the naive -[y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))] for moderate logits', () => {
    tf.tidy(() => {
      const logits = [-6, -2.5, -0.3, 0, 0.7, 3, 8];
      const labels = [0, 1, 1, 0, 1, 0, 1];
      const naive =
        logits.reduce((sum, x, i) => {
          const p = 1 / (1 + Math.exp(-x));
          const y = labels[i]!;
          return sum - (y * Math.log(p) + (1 - y) * Math.log(1 - p));
        }, 0) / logits.length;
      assert.ok(Math.abs(value(bceWithLogits(tf.tensor1d(logits), tf.tensor1d(labels))) - naive) < 1e-5);
    });
  });

  it('stays finite, with a finite gradient, for logits of +-100', () => {
    tf.tidy(() => {
      const logits = tf.tensor1d([100, -100, 100, -100]);
      const labels = tf.tensor1d([0, 1, 1, 0]);
      // Wrong with full confidence costs |x| = 100, right costs exp(-100), about 0: mean 50.
      assert.ok(Math.abs(value(bceWithLogits(logits, labels)) - 50) < 1e-4);
      const gradient = tf
        .grad((x: tf.Tensor) => bceWithLogits(x, labels))(logits)
        .dataSync();
      // d/dx = (sigmoid(x) - y) / 4: +-1/4 where wrong, about 0 where right.
      for (const [i, expected] of [0.25, -0.25, 0, 0].entries()) {
        assert.ok(Math.abs(gradient[i]! - expected) < 1e-7, `entry ${i}: ${gradient[i]}`);
      }
    });
  });
});

describe('diceBceLoss', () => {
  before(async () => {
    await tf.setBackend('cpu');
    silenceCpuBanner();
  });

  it('adds the weighted soft Dice of sigmoid(logits) and the BCE', () => {
    tf.tidy(() => {
      const logits = tf.reshape(
        tf.randomNormal([2, 4, 4, 4], 0, 2, 'float32', 71),
        [2, 4, 4, 4, 1],
      ) as tf.Tensor5D;
      const mask = boxMask();
      const dice = value(softDiceLoss(tf.sigmoid(tf.reshape(logits, [2, 4, 4, 4])), mask));
      const bce = value(bceWithLogits(tf.reshape(logits, [2, 4, 4, 4]), mask));
      const total = value(diceBceLoss(logits, mask, { diceWeight: 0.7, bceWeight: 2 }));
      assert.ok(Math.abs(total - (0.7 * dice + 2 * bce)) < 1e-5);
    });
  });

  it('gives the softmax2 head the loss of a sigmoid head with logit l1 - l0', () => {
    tf.tidy(() => {
      const pair = tf.randomNormal([2, 4, 4, 4, 2], 0, 2, 'float32', 72) as tf.Tensor5D;
      const [background, foreground] = tf.split(pair, 2, 4) as [tf.Tensor5D, tf.Tensor5D];
      const mask = boxMask();
      const softmax = value(diceBceLoss(pair, mask));
      const sigmoid = value(diceBceLoss(tf.sub(foreground, background), mask));
      assert.ok(Math.abs(softmax - sigmoid) < 1e-5);
    });
  });

  it('has BCE equal to the two-class softmax cross-entropy for the softmax2 head', () => {
    tf.tidy(() => {
      const pair = tf.randomNormal([2, 4, 4, 4, 2], 0, 2, 'float32', 73) as tf.Tensor5D;
      const mask = boxMask();
      const oneHot = tf.stack([tf.sub(1, mask), mask], 4);
      const crossEntropy = value(tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(pair)), 4))));
      const bceOnly = value(diceBceLoss(pair, mask, { diceWeight: 0, bceWeight: 1 }));
      assert.ok(Math.abs(bceOnly - crossEntropy) < 1e-5);
    });
  });
});
