import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeFroc, FROC_RATES, interpolate } from '../../../server/evaluate/froc.js';

const close = (actual: number | null, expected: number, what: string): void => {
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-12, `${what}: ${actual} != ${expected}`);
};

describe('computeFroc', () => {
  /*
   * Two scans, three nodules.
   *   scan A: nodules found with scores 0.9 and 0.6; false positives 0.8 and 0.3.
   *   scan B: its nodule missed; false positives 0.7, 0.6 (a tie with a found nodule) and 0.2.
   * Thresholds, from the top: keeping candidates >= t, true positives TP and false positives FP are
   *   t = +inf: TP 0, FP 0 -> (0 FP/scan, sensitivity 0)
   *   t = 0.9:  TP 1, FP 0 -> (0,   1/3)
   *   t = 0.8:  TP 1, FP 1 -> (0.5, 1/3)
   *   t = 0.7:  TP 1, FP 2 -> (1,   1/3)
   *   t = 0.6:  TP 2, FP 3 -> (1.5, 2/3)   (the tie goes in together)
   *   t = 0.3:  TP 2, FP 4 -> (2,   2/3)
   *   t = 0.2:  TP 2, FP 5 -> (2.5, 2/3)   (the missed nodule never counts: the curve ends at 2/3)
   * At 1/8, 1/4 and 1/2 the curve is flat at 1/3; at 1 it is (1, 1/3), before the rise to 1.5; at 2 it is 2/3,
   * and past 2.5 it stays 2/3 (at 4 and 8). Mean: (4 * 1/3 + 3 * 2/3) / 7 = 10/21.
   */
  const froc = computeFroc([
    { noduleScores: [0.9, 0.6], falsePositiveScores: [0.8, 0.3] },
    { noduleScores: [null], falsePositiveScores: [0.7, 0.6, 0.2] },
  ]);

  it('sweeps the threshold over every distinct score', () => {
    assert.deepEqual(
      froc.curve.map((point) => [point.threshold, point.falsePositivesPerScan, point.sensitivity]),
      [
        [Number.POSITIVE_INFINITY, 0, 0],
        [0.9, 0, 1 / 3],
        [0.8, 0.5, 1 / 3],
        [0.7, 1, 1 / 3],
        [0.6, 1.5, 2 / 3],
        [0.3, 2, 2 / 3],
        [0.2, 2.5, 2 / 3],
      ],
    );
    assert.equal(froc.scans, 2);
    assert.equal(froc.nodules, 3);
  });

  it('reads sensitivity at the seven LUNA16 rates and their mean', () => {
    assert.deepEqual(FROC_RATES, [0.125, 0.25, 0.5, 1, 2, 4, 8]);
    const expected = [1 / 3, 1 / 3, 1 / 3, 1 / 3, 2 / 3, 2 / 3, 2 / 3];
    froc.sensitivities.forEach((value, i) => {
      close(value, expected[i]!, `rate ${FROC_RATES[i]}`);
    });
    close(froc.mean, 10 / 21, 'mean');
  });

  it('interpolates linearly between operating points', () => {
    // Halfway from (1, 1/3) to (1.5, 2/3).
    close(interpolate(froc.curve, 1.25), 0.5, 'rate 1.25');
    close(interpolate(froc.curve, 0.25), 1 / 3, 'rate 0.25');
  });

  it('takes the top of a vertical rise at its rate, as np.interp does', () => {
    // One scan, FP 0.8; nodules found at 0.7 and 0.6: points (0, 0), (1, 0), (1, 1/2), (1, 1).
    // np.interp([1], [0, 1, 1, 1], [0, 0, 0.5, 1]) is 1.
    const rise = computeFroc([{ noduleScores: [0.7, 0.6], falsePositiveScores: [0.8] }]);
    close(interpolate(rise.curve, 1), 1, 'rate 1');
    close(interpolate(rise.curve, 0.5), 0, 'rate 0.5');
  });

  it('gives the share found at every rate when there is no false positive, as LUNA16 does', () => {
    const clean = computeFroc([
      { noduleScores: [0.9, null], falsePositiveScores: [] },
      { noduleScores: [], falsePositiveScores: [] },
    ]);
    for (const value of clean.sensitivities) close(value, 0.5, 'sensitivity');
  });

  it('has no sensitivity without nodules, and 0 when none is found', () => {
    const none = computeFroc([{ noduleScores: [], falsePositiveScores: [0.5] }]);
    assert.deepEqual(none.sensitivities, [null, null, null, null, null, null, null]);
    assert.equal(none.mean, null);
    const missed = computeFroc([{ noduleScores: [null], falsePositiveScores: [0.5] }]);
    assert.deepEqual(missed.sensitivities, [0, 0, 0, 0, 0, 0, 0]);
    assert.equal(missed.mean, 0);
  });
});
