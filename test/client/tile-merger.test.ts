import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFeedError } from '../../client/feed-error.js';
import type { TileWeighting } from '../../client/importance-map.js';
import type { Shape3 } from '../../client/shape3.js';
import { type MergedSlab, TileMerger } from '../../client/tile-merger.js';
import { cutTiles, identityPrediction, seededBytes } from '../support/identity-tiles.js';

/** Streams every tile of `volume` through a TileMerger; returns the slabs (copied) and the merger. */
async function mergeStreaming(
  volume: Uint8Array,
  shape: Shape3,
  tile: Shape3,
  overlap: number,
  weighting: TileWeighting,
): Promise<{ merged: Float32Array; slabs: { start: number; rowCount: number }[]; merger: TileMerger }> {
  const merged = new Float32Array(volume.length);
  const slabs: { start: number; rowCount: number }[] = [];
  const plane = shape[1] * shape[2];
  const merger = new TileMerger({
    volumeShape: shape,
    tileShape: tile,
    weighting,
    sink: async (slab: MergedSlab) => {
      await Promise.resolve();
      slabs.push({ start: slab.start, rowCount: slab.rowCount });
      merged.set(slab.values, slab.start * plane);
    },
  });
  for (const { origin, image } of cutTiles(volume, shape, tile, overlap, 7)) {
    await merger.add(origin, identityPrediction(image));
  }
  await merger.finish();
  return { merged, slabs, merger };
}

function assertIdentity(merged: Float32Array, volume: Uint8Array): void {
  let worst = 0;
  for (let v = 0; v < volume.length; v++) worst = Math.max(worst, Math.abs(merged[v]! - volume[v]! / 255));
  assert.ok(worst <= 1e-6, `largest difference from volume / 255: ${worst}`);
}

const CASES: { shape: Shape3; tile: Shape3; what: string }[] = [
  { shape: [13, 20, 17], tile: [4, 8, 6], what: 'larger than the tile on every axis' },
  { shape: [3, 5, 17], tile: [4, 8, 6], what: 'smaller than the tile on two axes (padded tiles)' },
  { shape: [9, 8, 6], tile: [4, 8, 6], what: 'the tile size on two axes' },
];

describe('TileMerger', () => {
  for (const { shape, tile, what } of CASES) {
    for (const overlap of [0, 0.25, 0.5]) {
      for (const weighting of ['constant', 'gaussian'] as const) {
        it(`gives back the volume from an identity model: ${what}, overlap ${overlap}, ${weighting}`, async () => {
          const volume = seededBytes(shape[0] * shape[1] * shape[2], 11 + overlap * 100);
          const { merged, slabs } = await mergeStreaming(volume, shape, tile, overlap, weighting);
          assertIdentity(merged, volume);
          // Every row went to the sink once, in order, in slabs no larger than a tile.
          let next = 0;
          for (const slab of slabs) {
            assert.equal(slab.start, next);
            assert.ok(slab.rowCount >= 1 && slab.rowCount <= tile[0], `slab of ${slab.rowCount} rows`);
            next += slab.rowCount;
          }
          assert.equal(next, shape[0]);
        });
      }
    }
  }

  it('hands rows to the sink as soon as a tile with a larger axis-0 origin arrives, not at finish', async () => {
    const shape: Shape3 = [20, 6, 6];
    const tile: Shape3 = [4, 6, 6];
    const volume = seededBytes(20 * 36, 3);
    const merger = new TileMerger({ volumeShape: shape, tileShape: tile, sink: () => undefined });
    const seen: [number, number][] = [];
    for (const { origin, image } of cutTiles(volume, shape, tile, 0.5)) {
      await merger.add(origin, identityPrediction(image));
      seen.push([origin[0], merger.rowsDone]);
    }
    // Overlap 0.5 on 20 rows: origins 0, 2, ..., 16; adding the tile at z finalises the rows below z.
    assert.deepEqual(
      seen,
      [0, 2, 4, 6, 8, 10, 12, 14, 16].map((z) => [z, z]),
    );
    await merger.finish();
    assert.equal(merger.rowsDone, 20);
  });

  it('keeps its peak memory when axis 0 grows 4x, far below a whole-volume float32 buffer', async () => {
    const tile: Shape3 = [8, 16, 16];
    const peaks: number[] = [];
    for (const v0 of [64, 256]) {
      const shape: Shape3 = [v0, 48, 40];
      const volume = seededBytes(v0 * 48 * 40, v0);
      const { merged, merger } = await mergeStreaming(volume, shape, tile, 0.5, 'gaussian');
      assertIdentity(merged, volume);
      peaks.push(merger.peakBytes);
      const wholeVolumeBytes = v0 * 48 * 40 * 4;
      if (v0 === 256) {
        assert.ok(merger.peakBytes * 8 < wholeVolumeBytes, `peak ${merger.peakBytes} vs ${wholeVolumeBytes}`);
      }
    }
    assert.equal(peaks[1], peaks[0], `peak bytes for 64 and 256 rows: ${peaks.join(', ')}`);
    // Sums, weight sums and the output slab of t0 rows, and the importance map: "about two slabs".
    assert.equal(peaks[0], 3 * 8 * 48 * 40 * 4 + 8 * 16 * 16 * 4);
  });

  it('merges a batch of tiles (TileBatch.origins and B predictions) as the same tiles one by one', async () => {
    const shape: Shape3 = [10, 9, 8];
    const tile: Shape3 = [4, 4, 4];
    const volume = seededBytes(10 * 9 * 8, 5);
    const tiles = [...cutTiles(volume, shape, tile, 0.25)];
    const merged = new Float32Array(volume.length);
    const merger = new TileMerger({
      volumeShape: shape,
      tileShape: tile,
      sink: (slab) => merged.set(slab.values, slab.start * 72),
    });
    for (let b = 0; b < tiles.length; b += 5) {
      const batch = tiles.slice(b, b + 5);
      const predictions = new Float32Array(batch.length * 64);
      for (const [i, { image }] of batch.entries()) predictions.set(identityPrediction(image), i * 64);
      await merger.addBatch(
        batch.flatMap(({ origin }) => [...origin]),
        predictions,
      );
    }
    await merger.finish();
    assertIdentity(merged, volume);
  });

  describe('refuses bad input with one line naming the value', () => {
    const shape: Shape3 = [12, 8, 8];
    const tile: Shape3 = [4, 8, 8];
    const newMerger = () => new TileMerger({ volumeShape: shape, tileShape: tile, sink: () => undefined });
    const tileValues = () => new Float32Array(4 * 8 * 8);

    const rejectsWith = async (action: Promise<unknown>, code: string, pattern: RegExp) => {
      await assert.rejects(action, (error: unknown) => {
        assert.ok(isFeedError(error), String(error));
        assert.equal(error.code, code);
        assert.match(error.message, pattern);
        assert.doesNotMatch(error.message, /\n/);
        return true;
      });
    };

    it('a tile out of order (a smaller axis-0 origin after a larger one)', async () => {
      const merger = newMerger();
      await merger.add([0, 0, 0], tileValues());
      await merger.add([4, 0, 0], tileValues());
      await rejectsWith(
        merger.add([0, 0, 0], tileValues()),
        'FAILED_PRECONDITION',
        /the tile at \[0, 0, 0\] came after one at axis-0 origin 4; .*axis 0 slowest.*mergeTilesInMemory/,
      );
    });

    it('a prediction of the wrong length', async () => {
      await rejectsWith(
        newMerger().add([0, 0, 0], new Float32Array(100)),
        'INVALID_ARGUMENT',
        /prediction of the tile at \[0, 0, 0\] holds 100 values; tile shape \[4, 8, 8\] needs a Float32Array of 256/,
      );
    });

    it('a prediction that is not a Float32Array', async () => {
      await rejectsWith(
        newMerger().add([0, 0, 0], new Float64Array(256) as unknown as Float32Array),
        'INVALID_ARGUMENT',
        /holds a Float64Array; tile shape \[4, 8, 8\] needs a Float32Array of 256/,
      );
    });

    for (const origin of [
      [12, 0, 0],
      [0, -1, 0],
      [0, 0, 8],
      [0, 0],
      [1.5, 0, 0],
    ]) {
      it(`an origin outside the volume: [${origin.join(', ')}]`, async () => {
        await rejectsWith(
          newMerger().add(origin, tileValues()),
          'INVALID_ARGUMENT',
          new RegExp(`tile origin \\[${origin.join(', ')}\\] is outside the volume of shape \\[12, 8, 8\\]`),
        );
      });
    }

    it('a missing tile: the first voxel no tile covered', async () => {
      const merger = newMerger();
      await merger.add([0, 0, 0], tileValues());
      await rejectsWith(
        merger.add([8, 0, 0], tileValues()),
        'FAILED_PRECONDITION',
        /voxel \[4, 0, 0\] got no tile; add every tile of the series' grid/,
      );
    });

    it('rows past the last tile at finish', async () => {
      const merger = newMerger();
      await merger.add([0, 0, 0], tileValues());
      await merger.add([4, 0, 0], tileValues());
      await rejectsWith(merger.finish(), 'FAILED_PRECONDITION', /voxel \[8, 0, 0\] got no tile/);
    });

    it('finish without tiles, and add after finish', async () => {
      await rejectsWith(newMerger().finish(), 'FAILED_PRECONDITION', /no tile was added/);
      const merger = newMerger();
      for (const z of [0, 4, 8]) await merger.add([z, 0, 0], tileValues());
      await merger.finish();
      await rejectsWith(
        merger.add([0, 0, 0], tileValues()),
        'FAILED_PRECONDITION',
        /the merger has finished; make a new TileMerger/,
      );
    });

    it('a second add before the first resolved', async () => {
      let release = () => {};
      const merger = new TileMerger({
        volumeShape: shape,
        tileShape: tile,
        sink: () => new Promise<void>((resolve) => (release = resolve)),
      });
      await merger.add([0, 0, 0], tileValues());
      const first = merger.add([4, 0, 0], tileValues());
      await rejectsWith(merger.add([4, 0, 0], tileValues()), 'FAILED_PRECONDITION', /await each call/);
      release();
      await first;
    });

    it('a batch whose origins and predictions disagree', async () => {
      await rejectsWith(
        newMerger().addBatch([0, 0, 0, 4, 0, 0], new Float32Array(256)),
        'INVALID_ARGUMENT',
        /a batch of 6 origin values and 256 predicted values does not match tile shape \[4, 8, 8\]/,
      );
    });

    it('bad options', () => {
      const throwsWith = (make: () => unknown, pattern: RegExp) =>
        assert.throws(make, (error: unknown) => isFeedError(error) && pattern.test(error.message));
      throwsWith(
        () => new TileMerger({ volumeShape: [0, 8, 8], tileShape: tile, sink: () => undefined }),
        /volume shape is \[0,8,8\]; give 3 integers >= 1/,
      );
      throwsWith(
        () => new TileMerger({ volumeShape: shape, tileShape: [4, 8], sink: () => undefined } as never),
        /tile shape is \[4,8\]; give 3 integers >= 1/,
      );
      throwsWith(
        () =>
          new TileMerger({
            volumeShape: shape,
            tileShape: tile,
            weighting: 'mean' as never,
            sink: () => undefined,
          }),
        /weighting is "mean"/,
      );
      throwsWith(
        () => new TileMerger({ volumeShape: shape, tileShape: tile, sink: undefined as never }),
        /sink is not a function/,
      );
    });
  });

  it('passes on an error of the sink', async () => {
    const merger = new TileMerger({
      volumeShape: [8, 4, 4],
      tileShape: [4, 4, 4],
      sink: async () => {
        throw new Error('disk full');
      },
    });
    await merger.add([0, 0, 0], new Float32Array(64));
    await assert.rejects(merger.add([4, 0, 0], new Float32Array(64)), /disk full/);
  });
});
