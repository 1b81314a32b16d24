import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectedComponents } from '../../../server/evaluate/connected-components.js';
import type { Shape3 } from '../../../server/sampling/types.js';

/** A C-order volume of `shape` with the listed voxels (z, y, x) set to 1. */
function volume(shape: Shape3, voxels: ReadonlyArray<readonly [number, number, number]>): Uint8Array {
  const out = new Uint8Array(shape[0] * shape[1] * shape[2]);
  for (const [z, y, x] of voxels) out[(z * shape[1] + y) * shape[2] + x] = 1;
  return out;
}

describe('connectedComponents', () => {
  const shape: Shape3 = [4, 4, 4];

  for (const [name, second] of [
    ['a face', [1, 1, 2]],
    ['an edge', [1, 2, 2]],
    ['a corner only', [2, 2, 2]],
  ] as const) {
    it(`joins two voxels that share ${name} (26-connectivity)`, () => {
      const { components } = connectedComponents(volume(shape, [[1, 1, 1], second]), shape);
      assert.equal(components.length, 1);
      assert.equal(components[0]!.voxels, 2);
    });
  }

  it('keeps voxels two steps apart separate', () => {
    const { components } = connectedComponents(
      volume(shape, [
        [0, 0, 0],
        [2, 2, 2],
        [0, 0, 2],
      ]),
      shape,
    );
    assert.equal(components.length, 3);
  });

  it('joins a diagonal staircase that 6-connectivity would cut into single voxels', () => {
    // (0,0,0), (1,1,1), (2,2,2), (3,3,3): each touches the next at a corner only; with faces only (6
    // neighbours) these are 4 components, with 26 neighbours one.
    const diagonal = volume(shape, [
      [0, 0, 0],
      [1, 1, 1],
      [2, 2, 2],
      [3, 3, 3],
    ]);
    const { components } = connectedComponents(diagonal, shape);
    assert.deepEqual(components, [{ voxels: 4, centroid: [1.5, 1.5, 1.5], maxScore: 0 }]);
  });

  for (const [name, pair] of [
    // Index 3 and 4 in memory, 3 voxels apart along axis 2.
    [
      'a row',
      [
        [0, 0, 3],
        [0, 1, 0],
      ],
    ],
    // Index 15 and 16: the last voxel of plane 0 and the first of plane 1.
    [
      'a plane',
      [
        [0, 3, 3],
        [1, 0, 0],
      ],
    ],
    // The last voxel and the first.
    [
      'the volume',
      [
        [3, 3, 3],
        [0, 0, 0],
      ],
    ],
  ] as const) {
    it(`does not join voxels next to each other in memory across the end of ${name}`, () => {
      assert.equal(connectedComponents(volume(shape, pair), shape).components.length, 2);
    });
  }

  it('gives each component its voxel count, centroid and highest score, in order of its first voxel', () => {
    const binary = volume(
      [3, 5, 6],
      [
        [2, 4, 5],
        [0, 0, 0],
        [0, 0, 1],
        [1, 1, 1],
      ],
    );
    const scores = new Float32Array(binary.length);
    scores[(1 * 5 + 1) * 6 + 1] = 0.75;
    scores[(2 * 5 + 4) * 6 + 5] = 0.25;
    scores[0] = 0.5;
    const { components, labels } = connectedComponents(binary, [3, 5, 6], { scores, labels: true });
    assert.deepEqual(components, [
      { voxels: 3, centroid: [1 / 3, 1 / 3, 2 / 3], maxScore: 0.75 },
      { voxels: 1, centroid: [2, 4, 5], maxScore: 0.25 },
    ]);
    assert.equal(labels![0], 1);
    assert.equal(labels![(2 * 5 + 4) * 6 + 5], 2);
    assert.equal(labels![2], 0);
  });

  it('labels a volume that is all foreground as one component without deep recursion', () => {
    const big: Shape3 = [40, 60, 70];
    const { components } = connectedComponents(new Uint8Array(40 * 60 * 70).fill(1), big);
    assert.equal(components.length, 1);
    assert.equal(components[0]!.voxels, 40 * 60 * 70);
    assert.deepEqual(components[0]!.centroid, [19.5, 29.5, 34.5]);
  });

  it('finds nothing in an empty volume', () => {
    assert.deepEqual(connectedComponents(new Uint8Array(64), shape).components, []);
  });

  it('refuses a volume whose length is not its shape', () => {
    assert.throws(() => connectedComponents(new Uint8Array(63), shape), /4x4x4 has 64 voxels, got 63/);
  });
});
