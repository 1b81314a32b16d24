import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lineProgress } from '../../../trainer/infer/infer-progress.js';

describe('lineProgress', () => {
  it('prints a line when a series starts, every few seconds while it runs, and when it is written', () => {
    const lines: string[] = [];
    let time = 0;
    const progress = lineProgress(
      (line) => lines.push(line),
      () => time,
      5000,
    );
    progress.seriesStarted({
      uid: 'u1',
      index: 0,
      count: 2,
      volumeShape: [40, 64, 64],
      tileShape: [16, 32, 32],
      tilesInSeries: 10,
      spacing: [],
    });
    for (let i = 0; i < 10; i++) {
      time += 1000;
      progress.tilesDone(1);
    }
    progress.seriesFinished({
      uid: 'u1',
      volumeShape: [40, 64, 64],
      tiles: 10,
      seconds: 10,
      path: 'out/u1_pred.nrrd',
      peakBytes: 1,
      writerPeakBytes: 1,
    });
    progress.stop();
    assert.deepEqual(lines, [
      'series 1/2 u1: 10 tiles of 16x32x32 over 40x64x64',
      'series 1/2 u1: 5/10 tiles (50%)',
      'series 1/2 u1: 10/10 tiles (100%)',
      'series 1/2 u1: 10 tiles in 10.0 s, wrote out/u1_pred.nrrd',
    ]);
  });
});
