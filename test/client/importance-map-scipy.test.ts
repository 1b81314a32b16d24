import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { importanceMap } from '../../client/importance-map.js';
import type { Shape3 } from '../../client/shape3.js';

const run = promisify(execFile);
/** Debian's python3, which has python3-scipy. */
const PYTHON = '/usr/bin/python3';

/** nnU-Net's compute_gaussian, with scipy as nnU-Net calls it: a 3-D filter of a delta, not our separable form. */
const NNUNET_GAUSSIAN = `
import json, sys
import numpy as np
from scipy.ndimage import gaussian_filter
tile = json.loads(sys.argv[1])
tmp = np.zeros(tile)
tmp[tuple(t // 2 for t in tile)] = 1
g = gaussian_filter(tmp, [t / 8 for t in tile], 0, mode='constant', cval=0)
g = g / np.max(g)
g[g == 0] = np.min(g[g != 0])
print(json.dumps(g.astype(np.float32).ravel(order='C').tolist()))
`;

describe('importanceMap against nnU-Net with scipy.ndimage.gaussian_filter', () => {
  for (const tile of [
    [8, 24, 20],
    [5, 7, 9],
    [16, 32, 32],
  ] as Shape3[]) {
    it(`matches for a tile of ${tile.join('x')}`, async () => {
      let stdout = '';
      try {
        ({ stdout } = await run(PYTHON, ['-c', NNUNET_GAUSSIAN, JSON.stringify(tile)], {
          maxBuffer: 64 << 20,
        }));
      } catch (error) {
        assert.fail(`${PYTHON} with scipy computes the reference; apt-get install python3-scipy (${error})`);
      }
      const expected = JSON.parse(stdout) as number[];
      const map = importanceMap(tile, 'gaussian');
      assert.equal(map.length, expected.length);
      let worst = 0;
      for (let v = 0; v < map.length; v++) {
        worst = Math.max(worst, Math.abs(map[v]! - expected[v]!) / expected[v]!);
      }
      assert.ok(worst <= 1e-5, `largest relative difference ${worst}`);
    });
  }
});
