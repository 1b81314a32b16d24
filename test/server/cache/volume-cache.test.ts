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

  it('keeps a permanent failure, so later requests fail at once with the same error and load nothing', async () => {
    const corrupt = new Error('series 3 is truncated');
    const calls: number[] = [];
    const kept: Array<[number, unknown]> = [];
    const cache = new VolumeCache<number>({
      maxBytes: 1000,
      load: async (key) => {
        calls.push(key);
        if (key === 3) throw corrupt;
        return volumeOf(10, key);
      },
      isPermanentFailure: (error) => error === corrupt,
      events: { onFailureKept: (key, error) => kept.push([key, error]) },
    });
    await assert.rejects(cache.get(3), (error) => error === corrupt);
    assert.deepEqual([...cache.failedKeys], [3]);
    assert.equal(kept.length, 1);
    assert.equal(kept[0]?.[0], 3);
    assert.equal(kept[0]?.[1], corrupt);
    for (let attempt = 0; attempt < 3; attempt++) {
      await assert.rejects(cache.get(3), (error) => error === corrupt);
    }
    assert.deepEqual(calls, [3], 'a kept failure must not load the file again');
    assert.equal(cache.loads, 1);
    assert.equal(cache.loadsInFlight, 0);
    assert.equal(kept.length, 1, 'onFailureKept fires once per key, not once per request');
    assert.equal((await cache.get(4)).image.length, 10, 'other keys still load');
    assert.deepEqual([...cache.failedKeys], [3]);
  });

  it('gives every request coalesced on a failing load the permanent error', async () => {
    const corrupt = new Error('bad magic');
    let fail: (error: unknown) => void = () => {};
    let loads = 0;
    const kept: number[] = [];
    const cache = new VolumeCache<number>({
      maxBytes: 1000,
      load: () =>
        new Promise<Volume>((_resolve, reject) => {
          loads += 1;
          fail = reject;
        }),
      isPermanentFailure: () => true,
      events: { onFailureKept: (key) => kept.push(key) },
    });
    const requests = [cache.get(5), cache.get(5), cache.get(5)];
    assert.equal(cache.loadsInFlight, 1);
    assert.equal(cache.failedKeys.size, 0, 'nothing is kept before the load has failed');
    fail(corrupt);
    const results = await Promise.allSettled(requests);
    for (const result of results) {
      assert.equal(result.status, 'rejected');
      assert.equal(result.status === 'rejected' ? result.reason : undefined, corrupt);
    }
    assert.equal(loads, 1);
    assert.deepEqual(kept, [5]);
    await assert.rejects(cache.get(5), (error) => error === corrupt);
    assert.equal(loads, 1);
  });

  it('does not keep a failure that isPermanentFailure judges passing, so the next request loads again', async () => {
    const judged: unknown[] = [];
    const kept: number[] = [];
    let attempts = 0;
    const shortage = Object.assign(new Error('too many open files'), { code: 'EMFILE' });
    const cache = new VolumeCache<number>({
      maxBytes: 1000,
      load: async (key) => {
        attempts += 1;
        if (attempts === 1) throw shortage;
        return volumeOf(10, key);
      },
      isPermanentFailure: (error) => {
        judged.push(error);
        return false;
      },
      events: { onFailureKept: (key) => kept.push(key) },
    });
    await assert.rejects(cache.get(2), (error) => error === shortage);
    assert.deepEqual(judged, [shortage], 'the failure was put to isPermanentFailure');
    assert.equal(cache.failedKeys.size, 0);
    assert.deepEqual(kept, []);
    const volume = await cache.get(2);
    assert.equal(volume.image[0], 2);
    assert.equal(attempts, 2);
    assert.equal(cache.has(2), true);
  });

  it('rejects a bound that is not a positive integer', () => {
    assert.throws(
      () => new VolumeCache<number>({ maxBytes: 0, load: async () => volumeOf(1) }),
      /positive integer, got 0/,
    );
  });

  it('runs at most maxConcurrentLoads loads at once, the others in the order asked as slots free up', async () => {
    const started: number[] = [];
    const finish = new Map<number, (outcome: 'ok' | 'fail') => void>();
    const cache = new VolumeCache<number>({
      maxBytes: 10_000,
      maxConcurrentLoads: 2,
      load: (key) =>
        new Promise<Volume>((resolve, reject) => {
          started.push(key);
          finish.set(key, (outcome) =>
            outcome === 'ok' ? resolve(volumeOf(10, key)) : reject(new Error(`load ${key} failed`)),
          );
        }),
    });
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    const gets = [1, 2, 3, 4, 5].map((key) => cache.get(key).catch((error: Error) => error.message));
    await settle();
    assert.deepEqual(started, [1, 2]);
    assert.equal(cache.loadsRunning, 2);
    assert.equal(cache.loadsQueued, 3);
    assert.equal(cache.loadsInFlight, 5);
    // A hit needs no slot.
    finish.get(2)!('ok');
    await settle();
    assert.deepEqual(started, [1, 2, 3]);
    assert.equal((await cache.get(2)).image[0], 2);
    // A failed load frees its slot as well.
    finish.get(1)!('fail');
    await settle();
    assert.deepEqual(started, [1, 2, 3, 4]);
    assert.equal(cache.loadsRunning, 2);
    assert.equal(cache.loadsQueued, 1);
    for (const key of [3, 4]) finish.get(key)!('ok');
    await settle();
    assert.deepEqual(started, [1, 2, 3, 4, 5]);
    finish.get(5)!('ok');
    const results = await Promise.all(gets);
    assert.equal(results[0], 'load 1 failed');
    assert.deepEqual(
      results.slice(1).map((volume) => (volume as Volume).image[0]),
      [2, 3, 4, 5],
    );
    assert.equal(cache.loadsRunning, 0);
    assert.equal(cache.loadsQueued, 0);
    assert.equal(cache.loadsInFlight, 0);
  });

  it('refuses a concurrency below 1', () => {
    for (const maxConcurrentLoads of [0, -1, 1.5, Number.NaN]) {
      assert.throws(
        () => new VolumeCache<number>({ maxBytes: 10, maxConcurrentLoads, load: async () => volumeOf(1) }),
        /maxConcurrentLoads must be an integer >= 1/,
      );
    }
  });
});
