import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseInferConfig } from '../../../trainer/infer/infer-config.js';
import { inferJson, inferTable } from '../../../trainer/infer/infer-report.js';
import type { InferSummary } from '../../../trainer/infer/run-infer.js';

const summary: InferSummary = {
  predictor: 'identity',
  target: { kind: 'series', uids: ['a', 'b'] },
  tileSize: [16, 96, 96],
  series: [
    {
      uid: 'a',
      volumeShape: [300, 512, 512],
      tiles: 3700,
      seconds: 37,
      path: 'out/a_pred.nrrd',
      peakBytes: 3 << 20,
      writerPeakBytes: 16 << 20,
    },
    {
      uid: 'b',
      volumeShape: [30, 96, 96],
      tiles: 7,
      seconds: 3,
      path: 'out/b_pred.nrrd',
      peakBytes: 1 << 20,
      writerPeakBytes: 1 << 20,
    },
  ],
  tiles: 3707,
  seconds: 40,
  peakMergeBytes: 3 << 20,
};

describe('inferTable and inferJson', () => {
  it('give a row per series with the totals, and the JSON summary line', () => {
    const table = inferTable(summary).split('\n');
    assert.match(table[0]!, /^series +shape +tiles +seconds +tiles\/s +merge MiB +file$/);
    assert.match(table[2]!, /^a +300x512x512 +3700 +37\.0 +100\.0 +3\.00 +a_pred\.nrrd$/);
    assert.match(table[4]!, /^all 2 series +3707 +40\.0 +92\.7 +3\.00 *$/);
    const config = parseInferConfig(['--model', 'identity', '--out', 'out', '--threshold', '0.4'], {});
    assert.ok(config !== 'help');
    assert.deepEqual(inferJson(config, summary), {
      predictor: 'identity',
      series: 2,
      tiles: 3707,
      seconds: 40,
      tiles_per_s: 92.7,
      peak_merge_bytes: 3 << 20,
      peak_writer_bytes: 16 << 20,
      tile: [16, 96, 96],
      overlap: [0.5, 0.5, 0.5],
      weighting: 'gaussian',
      output: 'mask >= 0.4',
      files: ['out/a_pred.nrrd', 'out/b_pred.nrrd'],
    });
  });
});
