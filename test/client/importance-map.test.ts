import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFeedError } from '../../client/feed-error.js';
import { gaussianProfile, importanceMap } from '../../client/importance-map.js';
import type { Shape3 } from '../../client/shape3.js';

const at = (map: Float32Array, shape: Shape3, i: number, j: number, k: number): number =>
  map[(i * shape[1] + j) * shape[2] + k]!;

describe('importanceMap', () => {
  it('is all ones for constant weighting', () => {
    const map = importanceMap([3, 4, 5], 'constant');
    assert.equal(map.length, 60);
    assert.ok(map.every((w) => w === 1));
  });

  for (const shape of [
    [16, 96, 96],
    [8, 8, 8],
    [7, 12, 5],
    [1, 2, 3],
  ] as Shape3[]) {
    describe(`gaussian for a tile of ${shape.join('x')}`, () => {
      const map = importanceMap(shape, 'gaussian');
      const centre = shape.map((t) => Math.floor(t / 2)) as unknown as Shape3;

      it('peaks at exactly 1 at the centre voxel T // 2', () => {
        let max = 0;
        for (const w of map) max = Math.max(max, w);
        assert.equal(max, 1);
        assert.equal(at(map, shape, ...centre), 1);
      });

      it('is > 0 everywhere', () => {
        assert.equal(map.length, shape[0] * shape[1] * shape[2]);
        const smallest = map.reduce((least, w) => Math.min(least, w), Number.POSITIVE_INFINITY);
        assert.ok(smallest > 0, `smallest ${smallest}`);
      });

      it('is symmetric about the centre voxel on every axis', () => {
        for (let i = 0; i < shape[0]; i++) {
          for (let j = 0; j < shape[1]; j++) {
            for (let k = 0; k < shape[2]; k++) {
              const mirror = [2 * centre[0] - i, 2 * centre[1] - j, 2 * centre[2] - k];
              mirror.forEach((m, axis) => {
                if (m < 0 || m >= shape[axis]!) return;
                const index = [i, j, k];
                index[axis] = m;
                assert.equal(at(map, shape, i, j, k), at(map, shape, index[0]!, index[1]!, index[2]!));
              });
            }
          }
        }
      });

      it('follows exp(-d^2 / (2 (T/8)^2)) along each axis through the centre, so sigma is T / 8', () => {
        for (let axis = 0; axis < 3; axis++) {
          const t = shape[axis]!;
          const sigma = t / 8;
          for (let x = 0; x < t; x++) {
            const index = [...centre];
            index[axis] = x;
            const w = at(map, shape, index[0]!, index[1]!, index[2]!);
            const d = x - centre[axis]!;
            const expected = Math.exp(-(d * d) / (2 * sigma * sigma));
            assert.ok(Math.abs(w - expected) <= 1e-6 * expected, `axis ${axis} x ${x}: ${w} vs ${expected}`);
            if (d !== 0 && w > 1e-30) {
              // The sigma this value implies, solved from the formula.
              const implied = Math.abs(d) / Math.sqrt(-2 * Math.log(w));
              assert.ok(
                Math.abs(implied - sigma) < 1e-4 * sigma,
                `axis ${axis}: sigma ${implied} vs ${sigma}`,
              );
            }
          }
        }
      });

      it('is the product of the three axis profiles', () => {
        const [p0, p1, p2] = shape.map((t) => gaussianProfile(t));
        for (let i = 0; i < shape[0]; i++) {
          for (let j = 0; j < shape[1]; j++) {
            for (let k = 0; k < shape[2]; k++) {
              assert.equal(at(map, shape, i, j, k), Math.fround(p0![i]! * p1![j]! * p2![k]!));
            }
          }
        }
      });
    });
  }

  it('weights a voxel off-centre on two axes by the product of its 1-D weights', () => {
    const shape: Shape3 = [16, 16, 16];
    const map = importanceMap(shape);
    const sigma = 2;
    const expected = Math.exp(-(3 * 3) / (2 * sigma * sigma)) * Math.exp(-(5 * 5) / (2 * sigma * sigma));
    const w = at(map, shape, 8 + 3, 8 - 5, 8);
    assert.ok(Math.abs(w - expected) <= 1e-6 * expected, `${w} vs ${expected}`);
  });

  it('refuses an unknown weighting, naming it', () => {
    assert.throws(
      () => importanceMap([4, 4, 4], 'hann' as never),
      (error: unknown) =>
        isFeedError(error) &&
        error.code === 'INVALID_ARGUMENT' &&
        /weighting is "hann"; use 'gaussian'/.test(error.message),
    );
  });

  it('refuses a tile shape that is not three integers >= 1, naming it', () => {
    for (const shape of [
      [4, 4],
      [4, 0, 4],
      [4, 2.5, 4],
    ] as unknown as Shape3[]) {
      assert.throws(
        () => importanceMap(shape),
        (error: unknown) =>
          isFeedError(error) &&
          error.message.includes(`tile shape is ${JSON.stringify(shape)}; give 3 integers >= 1`),
      );
    }
  });
});
