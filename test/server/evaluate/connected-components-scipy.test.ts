import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { connectedComponents } from '../../../server/evaluate/connected-components.js';
import { createRng } from '../../../server/sampling/rng.js';
import type { Shape3 } from '../../../server/sampling/types.js';

const run = promisify(execFile);
/** Debian's python3, which has python3-scipy; the python3 first on PATH may be another. */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** The independent reference: scipy's labelling with the full 3x3x3 structure (26-connectivity). */
const SCIPY = `
import json, sys
import numpy as np
from scipy import ndimage
binary_path, scores_path, labels_path, n0, n1, n2 = sys.argv[1:]
shape = (int(n0), int(n1), int(n2))
binary = np.fromfile(binary_path, dtype=np.uint8).reshape(shape)
scores = np.fromfile(scores_path, dtype=np.uint8).reshape(shape)
labels, count = ndimage.label(binary, structure=np.ones((3, 3, 3)))
labels.astype(np.int32).tofile(labels_path)
index = np.arange(1, count + 1)
sizes = ndimage.sum_labels(np.ones(shape), labels, index) if count else []
centres = ndimage.center_of_mass(binary, labels, index) if count else []
maxima = ndimage.maximum(scores, labels, index) if count else []
print(json.dumps({'count': int(count), 'sizes': [int(s) for s in sizes],
                  'centres': [[float(c) for c in centre] for centre in centres],
                  'maxima': [int(m) for m in maxima]}))
`;

interface ScipyResult {
  readonly count: number;
  readonly sizes: number[];
  readonly centres: number[][];
  readonly maxima: number[];
}

/**
 * Random volumes from sparse (many single voxels) through about the 26-neighbour percolation threshold
 * (~0.1, where components are largest and most tangled) to dense (one component with holes).
 */
const CASES: ReadonlyArray<readonly [shape: Shape3, density: number, seed: number]> = [
  [[9, 11, 13], 0.02, 1],
  [[16, 20, 24], 0.05, 2],
  [[16, 20, 24], 0.1, 3],
  [[20, 17, 23], 0.15, 4],
  [[12, 30, 7], 0.3, 5],
  [[24, 24, 24], 0.6, 6],
  [[1, 40, 40], 0.25, 7],
  [[5, 1, 60], 0.4, 8],
];

describe('connectedComponents against scipy.ndimage.label(structure=np.ones((3, 3, 3)))', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-components-'));
  });
  after(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  for (const [shape, density, seed] of CASES) {
    it(`finds the same partition, sizes, centroids and maxima in ${shape.join('x')} at density ${density}`, async () => {
      const total = shape[0] * shape[1] * shape[2];
      const rng = createRng([seed, 13]);
      const binary = new Uint8Array(total);
      const scores = new Uint8Array(total);
      for (let i = 0; i < total; i++) {
        binary[i] = rng.nextFloat() < density ? 1 : 0;
        scores[i] = rng.nextInt(0, 255);
      }
      const files = ['binary', 'scores', 'labels'].map((name) => path.join(dir, `${name}-${seed}.raw`));
      await writeFile(files[0]!, binary);
      await writeFile(files[1]!, scores);
      const { stdout } = await run(PYTHON, ['-c', SCIPY, ...files, ...shape.map(String)]);
      const scipy = JSON.parse(stdout) as ScipyResult;
      const scipyLabels = new Int32Array((await readFile(files[2]!)).buffer.slice(0));

      const ours = connectedComponents(binary, shape, { scores, labels: true });
      assert.ok(scipy.count > 0, 'the case has components');
      assert.equal(ours.components.length, scipy.count);
      // Same partition: our label -> scipy's label is one-to-one and onto, voxel by voxel.
      const toScipy = new Map<number, number>();
      const fromScipy = new Map<number, number>();
      for (let i = 0; i < total; i++) {
        const a = ours.labels![i]!;
        const b = scipyLabels[i]!;
        assert.equal(a === 0, b === 0, `voxel ${i}: background in one labelling only`);
        if (a === 0) continue;
        assert.equal(toScipy.get(a) ?? b, b, `our component ${a} spans scipy components`);
        assert.equal(fromScipy.get(b) ?? a, a, `scipy component ${b} spans our components`);
        toScipy.set(a, b);
        fromScipy.set(b, a);
      }
      assert.equal(toScipy.size, scipy.count);
      ours.components.forEach((component, index) => {
        const b = toScipy.get(index + 1)! - 1;
        assert.equal(component.voxels, scipy.sizes[b]);
        assert.equal(component.maxScore, scipy.maxima[b]);
        component.centroid.forEach((value, axis) => {
          assert.ok(
            Math.abs(value - scipy.centres[b]![axis]!) < 1e-9,
            `centroid ${component.centroid} vs ${scipy.centres[b]}`,
          );
        });
      });
    });
  }
});
