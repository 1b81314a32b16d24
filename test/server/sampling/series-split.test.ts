import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEpochItems } from '../../../server/sampling/epoch-items.js';
import { eligibleSeries, isHeldOut, resolveSeriesSplit } from '../../../server/sampling/series-split.js';
import {
  DEFAULT_SAMPLING_POLICY,
  type PlanItem,
  type SeriesSummary,
} from '../../../server/sampling/types.js';

/** Every item of the epoch, looked up one by one. */
function buildEpochItems(...args: Parameters<typeof createEpochItems>): PlanItem[] {
  const items = createEpochItems(...args);
  return Array.from({ length: items.size }, (_, index) => items.item(index));
}

function catalog(count: number): SeriesSummary[] {
  return Array.from({ length: count }, (_, i) => ({
    uid: `1.3.6.1.4.1.14519.5.2.1.6279.6001.${100_000 + i * 7919}`,
    shape: [32, 32, 32] as const,
    nodules: [{ center: [16, 16, 16] as const, diameter: 4 }],
  }));
}

describe('series split', () => {
  it('holds out about the requested share of series, by uid alone', () => {
    const series = catalog(2000);
    for (const fraction of [0.1, 0.2, 0.5]) {
      const held = series.filter((entry) => isHeldOut(entry.uid, fraction)).length / series.length;
      // 2000 series: the binomial standard deviation is at most 1.2 points; allow 4 of them.
      assert.ok(Math.abs(held - fraction) < 0.045, `fraction ${fraction}: held out ${held}`);
    }
  });

  it('splits train and holdout into complementary parts, stable under reordering of the catalog', () => {
    const series = catalog(300);
    const train = eligibleSeries(series, { holdoutFraction: 0.25, part: 'train' });
    const holdout = eligibleSeries(series, { holdoutFraction: 0.25, part: 'holdout' });
    assert.equal(train.length + holdout.length, series.length);
    assert.deepEqual(
      [...train, ...holdout].sort((a, b) => a - b),
      series.map((_, i) => i),
    );
    const reversed = [...series].reverse();
    const heldUids = new Set(holdout.map((i) => series[i]!.uid));
    const reversedHeld = eligibleSeries(reversed, { holdoutFraction: 0.25, part: 'holdout' }).map(
      (i) => reversed[i]!.uid,
    );
    assert.deepEqual(new Set(reversedHeld), heldUids);
  });

  it('keeps a series in the holdout part when the fraction grows', () => {
    const series = catalog(500);
    for (const entry of series) {
      if (isHeldOut(entry.uid, 0.1)) assert.ok(isHeldOut(entry.uid, 0.3), entry.uid);
    }
  });

  it('draws an epoch only from eligible series, negatives included', () => {
    const series = catalog(40);
    const eligible = eligibleSeries(series, { holdoutFraction: 0.3, part: 'holdout' });
    const items = buildEpochItems(
      series,
      { ...DEFAULT_SAMPLING_POLICY, negativesPerEpoch: 200 },
      4n,
      1,
      eligible,
    );
    const allowed = new Set(eligible);
    assert.equal(items.length, eligible.length + 200);
    for (const item of items) assert.ok(allowed.has(item.series), `series ${item.series} is not eligible`);
  });

  it('draws the same items with every series eligible as without a split', () => {
    const series = catalog(25);
    const policy = { ...DEFAULT_SAMPLING_POLICY, negativesPerEpoch: 30 };
    assert.deepEqual(
      buildEpochItems(series, policy, 9n, 2, eligibleSeries(series, { holdoutFraction: 0, part: 'all' })),
      buildEpochItems(series, policy, 9n, 2),
    );
  });

  it('refuses a train or holdout part without a fraction between 0 and 1', () => {
    for (const fraction of [0, 1, -0.5, Number.NaN]) {
      assert.throws(
        () => resolveSeriesSplit({ holdoutFraction: fraction, part: 'train' }),
        (error: Error) => error.message.includes(`split.holdout_fraction is ${fraction}`),
      );
    }
    assert.throws(() => resolveSeriesSplit({ holdoutFraction: 0.2, part: 'invalid' }), /split.part/);
    assert.deepEqual(resolveSeriesSplit(undefined), { holdoutFraction: 0, part: 'all' });
  });
});
