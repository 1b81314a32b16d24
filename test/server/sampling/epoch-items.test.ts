import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VoxelfeedError } from '../../../server/errors.js';
import { createEpochItems } from '../../../server/sampling/epoch-items.js';
import { createRng, toWords } from '../../../server/sampling/rng.js';
import {
  DEFAULT_SAMPLING_POLICY,
  type PlanItem,
  type SamplingPolicy,
  type SeriesSummary,
} from '../../../server/sampling/types.js';
import { syntheticCatalog } from './synthetic-catalog.js';

/** Every item of the epoch, looked up one by one. */
function buildEpochItems(...args: Parameters<typeof createEpochItems>): PlanItem[] {
  const items = createEpochItems(...args);
  return Array.from({ length: items.size }, (_, index) => items.item(index));
}

const policy = (overrides: Partial<SamplingPolicy>): SamplingPolicy => ({
  ...DEFAULT_SAMPLING_POLICY,
  ...overrides,
});

const catalog: SeriesSummary[] = [
  {
    uid: 'a',
    shape: [10, 10, 10],
    nodules: [
      { center: [1, 2, 3], diameter: 2 },
      { center: [4, 5, 6], diameter: 3 },
    ],
  },
  { uid: 'b', shape: [10, 10, 10], nodules: [] },
  { uid: 'c', shape: [10, 10, 10], nodules: [{ center: [7, 7, 7], diameter: 1 }] },
];

describe('createEpochItems', () => {
  it('lists each nodule samplesPerNodule times in catalog order, then the negatives', () => {
    const items = buildEpochItems({
      series: catalog,
      policy: policy({ samplesPerNodule: 2, negativesPerEpoch: 2 }),
      seed: 5n,
      epoch: 0,
    });
    assert.deepEqual(items.slice(0, 6), [
      { series: 0, nodule: 0 },
      { series: 0, nodule: 0 },
      { series: 0, nodule: 1 },
      { series: 0, nodule: 1 },
      { series: 2, nodule: 0 },
      { series: 2, nodule: 0 },
    ]);
    assert.equal(items.length, 8);
    for (const item of items.slice(6)) assert.equal(item.nodule, -1);
  });

  it('draws negative j from its own stream (seed, epoch, j, negativeSeries) uniformly over all series', () => {
    for (const [seed, epoch] of [
      [0n, 0],
      [42n, 3],
      [2n ** 64n - 1n, 4_000_000_000],
    ] as const) {
      const items = buildEpochItems({
        series: catalog,
        policy: policy({ negativesPerEpoch: 50 }),
        seed,
        epoch,
      });
      const negatives = items.slice(3);
      negatives.forEach((item, j) => {
        const expected = createRng([...toWords(seed), epoch, j, 3]).nextInt(0, catalog.length - 1);
        assert.deepEqual(item, { series: expected, nodule: -1 });
      });
    }
  });

  it('spreads negatives evenly over series, including series without nodules', () => {
    const n = 6000;
    const items = buildEpochItems({
      series: catalog,
      policy: policy({ negativesPerEpoch: n }),
      seed: 9n,
      epoch: 1,
    });
    const counts = [0, 0, 0];
    for (const item of items) if (item.nodule === -1) counts[item.series]!++;
    // Chi-square with 2 degrees of freedom; 13.8 is its 0.999 quantile.
    const expected = n / 3;
    const chi2 = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    assert.ok(chi2 < 13.8, `negatives per series ${counts.join(', ')} (chi2 ${chi2.toFixed(1)})`);
  });

  it('counts every nodule exactly samplesPerNodule times and the negatives exactly, over many catalogs', () => {
    for (let key = 0; key < 30; key++) {
      const series = syntheticCatalog(key, 1 + (key % 7));
      const p = policy({ samplesPerNodule: 1 + (key % 4), negativesPerEpoch: key % 5 });
      const nodules = series.reduce((sum, s) => sum + s.nodules.length, 0);
      if (nodules === 0 && p.negativesPerEpoch === 0) continue;
      const items = buildEpochItems({ series, policy: p, seed: BigInt(key), epoch: key });
      assert.equal(items.length, nodules * p.samplesPerNodule + p.negativesPerEpoch);
      const seen = new Map<string, number>();
      for (const item of items) {
        const k = `${item.series}/${item.nodule}`;
        seen.set(k, (seen.get(k) ?? 0) + 1);
      }
      series.forEach((s, si) => {
        for (let ni = 0; ni < s.nodules.length; ni++)
          assert.equal(seen.get(`${si}/${ni}`), p.samplesPerNodule);
      });
      assert.equal(items.filter((item) => item.nodule === -1).length, p.negativesPerEpoch);
    }
  });

  it('refuses an epoch without items with FAILED_PRECONDITION and the fix', () => {
    const empty: SeriesSummary[] = [{ uid: 'b', shape: [4, 4, 4], nodules: [] }];
    assert.throws(
      () => buildEpochItems({ series: empty, policy: policy({ negativesPerEpoch: 0 }), seed: 1n, epoch: 0 }),
      (error: unknown) =>
        error instanceof VoxelfeedError &&
        error.code === 'FAILED_PRECONDITION' &&
        error.message ===
          'the data set has no nodules and negatives_per_epoch is 0; set negatives_per_epoch > 0',
    );
    assert.deepEqual(
      buildEpochItems({ series: empty, policy: policy({ negativesPerEpoch: 2 }), seed: 1n, epoch: 0 }),
      [
        { series: 0, nodule: -1 },
        { series: 0, nodule: -1 },
      ],
    );
  });

  it('refuses negatives from a data set without series', () => {
    assert.throws(
      () => buildEpochItems({ series: [], policy: policy({ negativesPerEpoch: 3 }), seed: 1n, epoch: 0 }),
      (error: unknown) => error instanceof VoxelfeedError && error.code === 'FAILED_PRECONDITION',
    );
  });

  it('stores no item: its tables grow with the series, not with negatives or samples per nodule', () => {
    const series = syntheticCatalog(12, 50);
    const small = createEpochItems({ series, policy: policy({ negativesPerEpoch: 10 }), seed: 1n, epoch: 0 });
    const large = createEpochItems({
      series,
      policy: policy({ samplesPerNodule: 1000, negativesPerEpoch: 1_000_000 }),
      seed: 1n,
      epoch: 0,
    });
    assert.ok(large.size > 1_000_000, `${large.size} items`);
    assert.equal(large.bytes, small.bytes);
    assert.ok(large.bytes <= 12 * 50 + 4, `${large.bytes} bytes for 50 series`);
    // Lookups far into the epoch need nothing built before them.
    assert.equal(large.item(large.size - 1).nodule, -1);
    assert.equal(large.item(0).series, 0);
  });

  it('refuses an item index outside the epoch', () => {
    const items = createEpochItems({
      series: catalog,
      policy: policy({ negativesPerEpoch: 2 }),
      seed: 1n,
      epoch: 0,
    });
    for (const index of [-1, 0.5, items.size, Number.NaN]) {
      assert.throws(() => items.item(index), RangeError, `index ${index}`);
      assert.throws(() => items.seriesOf(index), RangeError, `index ${index}`);
    }
  });

  it('refuses an epoch that is not a uint32', () => {
    for (const epoch of [-1, 1.5, 2 ** 32, Number.NaN]) {
      assert.throws(
        () => buildEpochItems({ series: catalog, policy: DEFAULT_SAMPLING_POLICY, seed: 1n, epoch }),
        (error: unknown) =>
          error instanceof VoxelfeedError &&
          error.code === 'INVALID_ARGUMENT' &&
          error.message.includes(`${epoch}`),
      );
    }
  });
});
