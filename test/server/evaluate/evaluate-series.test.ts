import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateSeries, probabilityCutoff } from '../../../server/evaluate/evaluate-series.js';
import type { Shape3 } from '../../../server/sampling/types.js';
import { paintCube } from '../../support/prediction-files.js';

describe('probabilityCutoff', () => {
  it('is the first uint8 value whose probability v/255 reaches the threshold', () => {
    assert.equal(probabilityCutoff(0.5), 128); // 127/255 = 0.498, 128/255 = 0.502
    assert.equal(probabilityCutoff(1), 255);
    assert.equal(probabilityCutoff(1 / 255), 1);
    assert.equal(probabilityCutoff(0.001), 1);
  });
});

describe('evaluateSeries', () => {
  // Every axis a different size, so a centre read with its axes reversed lands elsewhere.
  const sizes: Shape3 = [12, 16, 20];
  const voxels = sizes[0] * sizes[1] * sizes[2];
  // A nodule of diameter 4 with its low corner at (2, 3, 4) (NRRD axes): centre (3.5, 4.5, 5.5).
  const truth = new Uint8Array(voxels);
  paintCube(truth, sizes, [2, 3, 4], 4, 1);
  const nodules = [{ center: [3.5, 4.5, 5.5] as const, diameter: 4 }];

  it('thresholds probabilities, scores components and finds nodules along NRRD axes', () => {
    const prediction = new Uint8Array(voxels);
    paintCube(prediction, sizes, [2, 3, 4], 4, 200); // the nodule, 64 voxels, p = 0.78
    paintCube(prediction, sizes, [9, 12, 15], 2, 140); // a false positive, 8 voxels, p = 0.55
    paintCube(prediction, sizes, [9, 2, 15], 2, 100); // below 0.5: not foreground
    const result = evaluateSeries({
      uid: 's',
      shape: sizes,
      truth,
      prediction,
      kind: 'probability',
      threshold: 0.5,
      nodules,
      spacing: null,
    });
    assert.deepEqual(result, {
      uid: 's',
      dice: (2 * 64) / (72 + 64),
      overlap: { predicted: 72, truth: 64, both: 64 },
      nodules: 1,
      found: 1,
      falsePositives: 1,
      components: 2,
      distance: 'voxels',
      noduleScores: [200 / 255],
      falsePositiveScores: [140 / 255],
    });
    // At 0.6 the false positive drops out.
    const strict = evaluateSeries({
      uid: 's',
      shape: sizes,
      truth,
      prediction,
      kind: 'probability',
      threshold: 0.6,
      nodules,
      spacing: null,
    });
    assert.equal(strict.falsePositives, 0);
    assert.equal(strict.dice, 1);
  });

  it('reads a mask prediction as 0/1 with every component scored 1, whatever the threshold', () => {
    const prediction = new Uint8Array(voxels);
    paintCube(prediction, sizes, [3, 4, 5], 2, 1);
    const result = evaluateSeries({
      uid: 's',
      shape: sizes,
      truth,
      prediction,
      kind: 'mask',
      threshold: 0.9,
      nodules,
      spacing: [1, 1, 1],
    });
    assert.deepEqual(result.noduleScores, [1]);
    assert.equal(result.overlap.predicted, 8);
    assert.equal(result.distance, 'mm');
  });
});
