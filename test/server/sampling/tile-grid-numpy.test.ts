import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { axisTileOrigins } from '../../../server/sampling/tile-grid.js';

const run = promisify(execFile);

/** Debian's python3, which has python3-numpy. */
const PYTHON = '/usr/bin/python3';

/**
 * The grid rule as the .proto states it, written independently with numpy in float64 (nnU-Net's
 * compute_steps_for_sliding_window, without its rounding to Python ints): one line of origins per case.
 */
const NUMPY_RULE = `import json, sys
import numpy as np
for volume, tile, overlap in json.loads(sys.stdin.read()):
    if volume <= tile:
        print("0")
        continue
    step = max(1.0, tile * (1.0 - np.float64(overlap)))
    n = int(np.ceil((volume - tile) / step)) + 1
    origins = np.floor(np.arange(n, dtype=np.float64) * (volume - tile) / (n - 1) + 0.5).astype(np.int64)
    print(",".join(str(o) for o in origins))
`;

describe('axisTileOrigins against numpy', () => {
  it('finds the origins an independent numpy implementation of the rule finds', async () => {
    const cases: [number, number, number][] = [];
    // Overlaps as the wire carries them: float32 values, read as their exact doubles on both sides.
    const overlaps = [0, 0.1, 0.2, 0.25, 0.3, 1 / 3, 0.4, 0.5, 0.6, 2 / 3, 0.75, 0.8, 0.9, 0.95, 0.99].map(
      Math.fround,
    );
    for (let volume = 1; volume <= 530; volume += 7) {
      for (const tile of [1, 3, 7, 16, 24, 48, 64, 96, 100, 128, 160]) {
        for (const overlap of overlaps) cases.push([volume, tile, overlap]);
      }
    }
    const child = run(PYTHON, ['-c', NUMPY_RULE], { maxBuffer: 1 << 26 });
    child.child.stdin?.end(JSON.stringify(cases));
    const { stdout } = await child;
    const lines = stdout.trimEnd().split('\n');
    assert.equal(lines.length, cases.length);
    cases.forEach(([volume, tile, overlap], i) => {
      assert.equal(
        axisTileOrigins(volume, tile, overlap).join(','),
        lines[i],
        `volume ${volume}, tile ${tile}, overlap ${overlap}`,
      );
    });
    assert.ok(cases.length > 10_000);
  });
});
