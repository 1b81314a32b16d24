import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchNodules } from '../../../server/evaluate/match-nodules.js';
import type { Nodule } from '../../../server/sampling/types.js';

const nodule = (center: [number, number, number], diameter: number): Nodule => ({ center, diameter });

describe('matchNodules', () => {
  it('finds a nodule whose radius holds a candidate centre, strictly within it as LUNA16', () => {
    const nodules = [nodule([10, 10, 10], 4)];
    const inside = matchNodules(nodules, [{ centroid: [11.9, 10, 10], score: 0.5 }], null);
    assert.deepEqual(inside, { noduleScores: [0.5], falsePositiveScores: [], distance: 'voxels' });
    // Exactly on the radius (2 voxels away) is outside: a false positive, and the nodule is missed.
    const edge = matchNodules(nodules, [{ centroid: [10, 12, 10], score: 0.5 }], null);
    assert.deepEqual(edge, { noduleScores: [null], falsePositiveScores: [0.5], distance: 'voxels' });
  });

  it('counts a nodule once, with its best candidate, and none of its candidates as false positives', () => {
    const result = matchNodules(
      [nodule([10, 10, 10], 6)],
      [
        { centroid: [9, 10, 10], score: 0.4 },
        { centroid: [11, 11, 10], score: 0.9 },
        { centroid: [10, 10, 30], score: 0.7 },
      ],
      null,
    );
    assert.deepEqual(result.noduleScores, [0.9]);
    assert.deepEqual(result.falsePositiveScores, [0.7]);
  });

  it('lets one candidate within two nodules find both', () => {
    const result = matchNodules(
      [nodule([10, 10, 10], 6), nodule([10, 10, 13], 6)],
      [{ centroid: [10, 10, 11.5], score: 0.8 }],
      null,
    );
    assert.deepEqual(result.noduleScores, [0.8, 0.8]);
    assert.deepEqual(result.falsePositiveScores, []);
  });

  it('measures in millimetres with a spacing: 1.5 voxels along a 2 mm axis is 3 mm', () => {
    // Diameter 4 voxels of the mean edge cbrt(2 * 1 * 1) = 1.26 mm: radius 2.52 mm < 3 mm, so missed; in voxels
    // the same candidate is 1.5 < 2 voxels away, so found.
    const nodules = [nodule([10, 10, 10], 4)];
    const candidates = [{ centroid: [11.5, 10, 10] as const, score: 1 }];
    assert.deepEqual(matchNodules(nodules, candidates, [2, 1, 1]), {
      noduleScores: [null],
      falsePositiveScores: [1],
      distance: 'mm',
    });
    assert.deepEqual(matchNodules(nodules, candidates, null).noduleScores, [1]);
    // Isotropic spacing scales distance and radius alike: the same answer as in voxels.
    assert.deepEqual(matchNodules(nodules, candidates, [0.7, 0.7, 0.7]).noduleScores, [1]);
  });

  it('makes every candidate a false positive in a scan without nodules', () => {
    const result = matchNodules([], [{ centroid: [1, 2, 3], score: 0.3 }], null);
    assert.deepEqual(result, { noduleScores: [], falsePositiveScores: [0.3], distance: 'voxels' });
  });
});
