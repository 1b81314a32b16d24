import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEpochPlan } from '../../../server/sampling/epoch-plan.js';
import { DEFAULT_SAMPLING_POLICY, type SeriesSummary } from '../../../server/sampling/types.js';
import { type ItemSeries, windowedPermutation } from '../../../server/sampling/windowed-permutation.js';

function items(series: number, perSeries: number): ItemSeries {
  return { size: series * perSeries, seriesOf: (i) => i % series };
}

describe('windowedPermutation', () => {
  it('is a permutation for many sizes, windows, seeds and epochs', () => {
    for (const [series, perSeries, window] of [
      [1, 5, 1],
      [10, 3, 3],
      [37, 4, 5],
      [12, 1, 100],
    ] as const) {
      for (const seed of [0n, 7n, 2n ** 63n]) {
        const order = windowedPermutation(items(series, perSeries), window, seed, 3);
        assert.deepEqual(
          [...order].sort((a, b) => a - b),
          Array.from({ length: series * perSeries }, (_, i) => i),
        );
      }
    }
  });

  it('visits the series window by window: any run of positions inside a window touches at most `window` series', () => {
    const list = items(50, 6);
    for (const window of [1, 4, 7]) {
      const order = windowedPermutation(list, window, 11n, 0);
      const seriesAt = [...order].map((index) => list.seriesOf(index));
      for (let start = 0; start < 50; start += window) {
        const size = Math.min(window, 50 - start) * 6;
        const block = new Set(seriesAt.slice(start * 6, start * 6 + size));
        assert.equal(block.size, Math.min(window, 50 - start), `window ${window} at series ${start}`);
      }
      // Each series' items are contiguous within its window: a series never comes back after its window.
      const lastSeen = new Map<number, number>();
      seriesAt.forEach((series, position) => {
        lastSeen.set(series, position);
      });
      const firstSeen = new Map<number, number>();
      seriesAt.forEach((series, position) => {
        if (!firstSeen.has(series)) firstSeen.set(series, position);
      });
      for (const [series, first] of firstSeen) {
        assert.ok(lastSeen.get(series)! - first < window * 6, `series ${series} spans more than its window`);
      }
    }
  });

  it('depends only on (seed, epoch): equal inputs give equal orders, other epochs other orders', () => {
    const list = items(20, 5);
    assert.deepEqual(windowedPermutation(list, 4, 5n, 1), windowedPermutation(list, 4, 5n, 1));
    assert.notDeepEqual(windowedPermutation(list, 4, 5n, 1), windowedPermutation(list, 4, 5n, 2));
    assert.notDeepEqual(windowedPermutation(list, 4, 5n, 1), windowedPermutation(list, 4, 6n, 1));
  });

  it('is what an epoch plan uses when the policy sets shuffle_window, and the full shuffle otherwise', () => {
    const series: SeriesSummary[] = Array.from({ length: 9 }, (_, i) => ({
      uid: `s${i}`,
      shape: [16, 16, 16] as const,
      nodules: [{ center: [8, 8, 8] as const, diameter: 3 }],
    }));
    const windowed = createEpochPlan({
      series,
      policy: { ...DEFAULT_SAMPLING_POLICY, negativesPerEpoch: 40, shuffleWindow: 2 },
      seed: 1n,
      epoch: 0,
    });
    const full = createEpochPlan({
      series,
      policy: { ...DEFAULT_SAMPLING_POLICY, negativesPerEpoch: 40 },
      seed: 1n,
      epoch: 0,
    });
    assert.equal(windowed.size, full.size);
    for (let index = 0; index < full.size; index++) {
      assert.deepEqual(windowed.items.item(index), full.items.item(index));
    }
    assert.notDeepEqual([...windowed.order], [...full.order]);
    assert.deepEqual(windowed.order, windowedPermutation(windowed.items, 2, 1n, 0));
  });

  it('refuses a window below one series', () => {
    assert.throws(() => windowedPermutation(items(3, 1), 0, 1n, 0), /at least one series/);
  });
});
