import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VoxelfeedError } from '../../../server/errors.js';
import { seriesUid } from '../../../server/synth/series-uid.js';

describe('seriesUid', () => {
  it('looks like a LUNA16 series UID: the LIDC root, then one component of 30 digits, 64 characters', () => {
    for (const [seed, index] of [
      [0n, 0],
      [7n, 12345],
      [2n ** 64n - 1n, 999_999_999],
    ] as const) {
      const uid = seriesUid(seed, index);
      assert.match(uid, /^1\.3\.6\.1\.4\.1\.14519\.5\.2\.1\.6279\.6001\.[1-9]\d{29}$/);
      assert.equal(uid.length, 64, 'the DICOM maximum');
    }
  });

  it('is the same for the same seed and index', () => {
    assert.equal(seriesUid(42n, 3), seriesUid(42n, 3));
  });

  it('differs for every index of one seed and across seeds', () => {
    const seen = new Set<string>();
    for (let index = 0; index < 20_000; index++) seen.add(seriesUid(5n, index));
    assert.equal(seen.size, 20_000);
    assert.notEqual(seriesUid(5n, 0), seriesUid(6n, 0));
  });

  it('rejects a negative or fractional index', () => {
    for (const index of [-1, 1.5, 1e9]) {
      assert.throws(
        () => seriesUid(0n, index),
        (error: unknown) =>
          error instanceof VoxelfeedError &&
          error.code === 'INVALID_ARGUMENT' &&
          error.message.includes(`series index ${index}`),
      );
    }
  });
});
