import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEpochItems } from '../../../server/sampling/epoch-items.js';
import { createRng } from '../../../server/sampling/rng.js';
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

/** A uid as LUNA16 writes them: the shared LIDC root, then 26 to 30 random-looking digits, from the index. */
function lunaStyleUid(index: number): string {
  const rng = createRng([index, 0x1d1c]);
  let tail = String(rng.nextInt(1, 9));
  for (let length = rng.nextInt(26, 30); tail.length < length; ) tail += String(rng.nextInt(0, 9));
  return `1.3.6.1.4.1.14519.5.2.1.6279.6001.${tail}`;
}

/**
 * The exact central interval [low, high] of Binomial(n, p) with at most alpha/2 of the mass below low and at
 * most alpha/2 above high. Probabilities are summed in log space so that n 10,000 does not underflow.
 */
function binomialInterval(n: number, p: number, alpha: number): [low: number, high: number] {
  const logPmf: number[] = [];
  let logChoose = 0;
  for (let k = 0; k <= n; k++) {
    logPmf.push(logChoose + k * Math.log(p) + (n - k) * Math.log1p(-p));
    logChoose += Math.log(n - k) - Math.log(k + 1);
  }
  const peak = Math.max(...logPmf);
  const pmf = logPmf.map((value) => Math.exp(value - peak));
  const total = pmf.reduce((sum, value) => sum + value, 0);
  let low = 0;
  for (let below = pmf[0]! / total; below <= alpha / 2; below += pmf[low]! / total) low += 1;
  let high = n;
  for (let above = pmf[n]! / total; above <= alpha / 2; above += pmf[high]! / total) high -= 1;
  return [low, high];
}

function catalog(count: number): SeriesSummary[] {
  return Array.from({ length: count }, (_, i) => ({
    uid: `1.3.6.1.4.1.14519.5.2.1.6279.6001.${100_000 + i * 7919}`,
    shape: [32, 32, 32] as const,
    nodules: [{ center: [16, 16, 16] as const, diameter: 4 }],
  }));
}

describe('series split', () => {
  // Every family of uids for every fraction and size: a well-mixed hash holds out a binomial share. The cells
  // are deterministic (the hash is fixed), so this checks the hash once, not a random draw each run.
  const families: [name: string, uid: (i: number) => string][] = [
    ['sequential ids "0".."n-1"', (i) => String(i)],
    ['case_000-style names', (i) => `case_${String(i).padStart(3, '0')}`],
    ['LUNA16-style uids with a shared prefix', lunaStyleUid],
  ];
  const fractions = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5];
  const sizes = [10, 24, 100, 1000, 10_000];
  for (const [name, uid] of families) {
    it(`holds out a binomial share of ${name}: 99.9% interval for fractions 0.05..0.5, 10..10,000 series`, () => {
      const uids = Array.from({ length: Math.max(...sizes) }, (_, i) => uid(i));
      const problems: string[] = [];
      for (const n of sizes) {
        for (const fraction of fractions) {
          const held = uids.slice(0, n).filter((entry) => isHeldOut(entry, fraction)).length;
          const [low, high] = binomialInterval(n, fraction, 0.001);
          if (held < low || held > high)
            problems.push(`${n} series at ${fraction}: ${held} held out, not in [${low}, ${high}]`);
        }
      }
      assert.deepEqual(problems, []);
    });
  }

  it('computes the exact central binomial interval', () => {
    // n 10, p 0.05: P(X >= 4) = 0.00103 > 0.0005 but P(X >= 5) = 0.00006, so up to 4; 0 is likely (0.60).
    assert.deepEqual(binomialInterval(10, 0.05, 0.001), [0, 4]);
    // n 100, p 0.5: P(X <= 33) = 0.00044 and P(X <= 34) = 0.00089.
    assert.deepEqual(binomialInterval(100, 0.5, 0.001), [34, 66]);
    // Large n: close to the normal interval n p +- 3.29 sqrt(n p (1 - p)) = 2000 +- 131.6.
    const [low, high] = binomialInterval(10_000, 0.2, 0.001);
    assert.ok(Math.abs(low - 1868) <= 2 && Math.abs(high - 2132) <= 2, `${low}..${high}`);
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
    const items = buildEpochItems({
      series,
      policy: { ...DEFAULT_SAMPLING_POLICY, negativesPerEpoch: 200 },
      seed: 4n,
      epoch: 1,
      eligible,
    });
    const allowed = new Set(eligible);
    assert.equal(items.length, eligible.length + 200);
    for (const item of items) assert.ok(allowed.has(item.series), `series ${item.series} is not eligible`);
  });

  it('draws the same items with every series eligible as without a split', () => {
    const series = catalog(25);
    const policy = { ...DEFAULT_SAMPLING_POLICY, negativesPerEpoch: 30 };
    assert.deepEqual(
      buildEpochItems({
        series,
        policy,
        seed: 9n,
        epoch: 2,
        eligible: eligibleSeries(series, { holdoutFraction: 0, part: 'all' }),
      }),
      buildEpochItems({ series, policy, seed: 9n, epoch: 2 }),
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
