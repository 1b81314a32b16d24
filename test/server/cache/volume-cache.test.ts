import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CacheOutcome, VolumeCache } from '../../../server/cache/volume-cache.js';
import type { Volume } from '../../../server/sampling/types.js';

function volumeOf(voxels: number, fill = 0): Volume {
  return { shape: [1, 1, voxels], image: new Uint8Array(voxels).fill(fill), mask: new Uint8Array(voxels) };
}

/** A loader that counts calls and resolves only when told to, so concurrency is under the test's control. */
function controlledLoader(voxelsByKey: Record<number, number>) {
  const calls: number[] = [];
  const pending: Array<() => void> = [];
  const load = (key: number) =>
    new Promise<Volume>((resolve) => {
      calls.push(key);
      pending.push(() => resolve(volumeOf(voxelsByKey[key] ?? 10, key)));
    });
  const releaseAll = () => {
    for (const release of pending.splice(0)) release();
  };
  return { calls, load, releaseAll };
}

describe('VolumeCache', () => {
  it('shares one load between concurrent requests for the same volume', async () => {
    const loader = controlledLoader({ 1: 10 });
    const outcomes: CacheOutcome[] = [];
    const cache = new VolumeCache<number>({
      maxBytes: 1000,
      load: loader.load,
      events: { onOutcome: (o) => outcomes.push(o) },
    });
    const requests = [cache.get(1), cache.get(1), cache.get(1)];
    assert.equal(cache.loadsInFlight, 1);
    loader.releaseAll();
    const [a, b, c] = await Promise.all(requests);
    assert.deepEqual(loader.calls, [1]);
    assert.equal(a, b);
    assert.equal(b, c);
    assert.deepEqual(outcomes, ['miss', 'coalesced', 'coalesced']);
  });

  it('returns the cached object itself on a hit, copying nothing', async () => {
    const cache = new VolumeCache<number>({ maxBytes: 1000, load: async (key) => volumeOf(10, key) });
    const first = await cache.get(7);
    const second = await cache.get(7);
    assert.equal(second, first);
    assert.equal(second.image, first.image);
    assert.equal(cache.loads, 1);
  });

  it('never holds more bytes than its bound, evicting the least recently used volume', async () => {
    const evicted: number[] = [];
    // Each volume takes 2 * 30 = 60 bytes (image + mask); three fit in 200, four do not.
    const cache = new VolumeCache<number>({
      maxBytes: 200,
      load: async (key) => volumeOf(30, key),
      events: { onEvict: (bytes) => evicted.push(bytes) },
    });
    for (const key of [1, 2, 3]) await cache.get(key);
    await cache.get(1); // 1 is now the most recently used; 2 is the least
    await cache.get(4);
    assert.ok(cache.bytesHeld <= 200, `held ${cache.bytesHeld} bytes`);
    assert.equal(cache.has(2), false);
    assert.equal(cache.has(1), true);
    assert.deepEqual(evicted, [60]);
    for (let key = 10; key < 60; key++) {
      await cache.get(key);
      assert.ok(cache.bytesHeld <= 200, `held ${cache.bytesHeld} bytes after loading ${key}`);
    }
  });

  it('serves a volume larger than the whole cache without keeping it', async () => {
    const oversize: number[] = [];
    const cache = new VolumeCache<number>({
      maxBytes: 100,
      load: async (key) => volumeOf(key === 9 ? 500 : 10, key),
      events: { onOversize: (bytes) => oversize.push(bytes) },
    });
    await cache.get(1);
    const big = await cache.get(9);
    assert.equal(big.image.length, 500);
    assert.equal(cache.has(9), false);
    assert.equal(cache.has(1), true, 'a too-large volume must not evict the others');
    assert.deepEqual(oversize, [1000]);
    await cache.get(9);
    assert.equal(cache.loads, 3, 'an oversize volume is loaded again on every request');
  });

  it('does not keep a failed load, so the next request tries again', async () => {
    let attempts = 0;
    const cache = new VolumeCache<number>({
      maxBytes: 1000,
      load: async () => {
        attempts += 1;
        if (attempts === 1) throw new Error('disk hiccup');
        return volumeOf(10);
      },
    });
    await assert.rejects(cache.get(1), /disk hiccup/);
    assert.equal(cache.loadsInFlight, 0);
    const volume = await cache.get(1);
    assert.equal(volume.image.length, 10);
    assert.equal(attempts, 2);
  });

  it('rejects a bound that is not a positive integer', () => {
    assert.throws(
      () => new VolumeCache<number>({ maxBytes: 0, load: async () => volumeOf(1) }),
      /positive integer, got 0/,
    );
  });
});
