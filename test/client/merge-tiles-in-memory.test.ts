import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFeedError } from '../../client/feed-error.js';
import type { TileWeighting } from '../../client/importance-map.js';
import { mergeTilesInMemory, type TilePrediction } from '../../client/merge-tiles-in-memory.js';
import type { Shape3 } from '../../client/shape3.js';
import { TileMerger } from '../../client/tile-merger.js';
import { cutTiles, identityPrediction, seededBytes } from '../support/identity-tiles.js';

/** A fixed shuffle (seeded), so that the in-memory merge sees tiles out of the server's order. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const random = seededBytes(out.length * 4, seed);
  for (let i = out.length - 1; i > 0; i--) {
    const r = (random[4 * i]! | (random[4 * i + 1]! << 8) | (random[4 * i + 2]! << 16)) % (i + 1);
    [out[i], out[r]] = [out[r]!, out[i]!];
  }
  return out;
}

/**
 * The weighted average written out plainly in float64: for each voxel, over the tiles covering it,
 * sum(w p) / sum(w), with w the product over axes of exp(-d^2 / (2 (t/8)^2)) (d from the centre t // 2).
 */
function referenceMerge(
  shape: Shape3,
  tile: Shape3,
  tiles: readonly TilePrediction[],
  weighting: TileWeighting,
): Float64Array {
  const sums = new Float64Array(shape[0] * shape[1] * shape[2]);
  const weights = new Float64Array(sums.length);
  const axisWeight = (axis: number, x: number) => {
    if (weighting === 'constant') return 1;
    const t = tile[axis]!;
    const d = x - Math.floor(t / 2);
    return Math.exp(-(d * d) / (2 * (t / 8) ** 2));
  };
  for (const { origin, prediction } of tiles) {
    for (let i = 0; i < tile[0]; i++) {
      for (let j = 0; j < tile[1]; j++) {
        for (let k = 0; k < tile[2]; k++) {
          const [z, y, x] = [origin[0]! + i, origin[1]! + j, origin[2]! + k];
          if (z >= shape[0] || y >= shape[1] || x >= shape[2]) continue;
          const w = axisWeight(0, i) * axisWeight(1, j) * axisWeight(2, k);
          const voxel = (z * shape[1] + y) * shape[2] + x;
          sums[voxel]! += w * prediction[(i * tile[1] + j) * tile[2] + k]!;
          weights[voxel]! += w;
        }
      }
    }
  }
  return sums.map((sum, voxel) => sum / weights[voxel]!);
}

describe('mergeTilesInMemory', () => {
  const shape: Shape3 = [11, 14, 9];
  const tile: Shape3 = [4, 8, 8];

  for (const overlap of [0, 0.25, 0.5]) {
    for (const weighting of ['constant', 'gaussian'] as const) {
      it(`gives back the volume from an identity model with tiles in any order: overlap ${overlap}, ${weighting}`, async () => {
        const volume = seededBytes(shape[0] * shape[1] * shape[2], 21);
        const tiles = [...cutTiles(volume, shape, tile, overlap, 99)].map(({ origin, image }) => ({
          origin,
          prediction: identityPrediction(image),
        }));
        const merged = await mergeTilesInMemory(
          { volumeShape: shape, tileShape: tile, weighting },
          shuffled(tiles, 4),
        );
        assert.equal(merged.length, volume.length);
        let worst = 0;
        for (let v = 0; v < volume.length; v++)
          worst = Math.max(worst, Math.abs(merged[v]! - volume[v]! / 255));
        assert.ok(worst <= 1e-6, `largest difference ${worst}`);
      });

      it(`weights different predictions as the plain formula does, and as TileMerger: overlap ${overlap}, ${weighting}`, async () => {
        // Every tile predicts its own noise, so the weights decide each voxel's value.
        const tiles = [...cutTiles(new Uint8Array(shape[0] * shape[1] * shape[2]), shape, tile, overlap)].map(
          ({ origin }, index) => ({
            origin,
            prediction: Float32Array.from(
              seededBytes(tile[0] * tile[1] * tile[2], 100 + index),
              (b) => b / 255,
            ),
          }),
        );
        const merged = await mergeTilesInMemory({ volumeShape: shape, tileShape: tile, weighting }, tiles);
        const expected = referenceMerge(shape, tile, tiles, weighting);
        let worst = 0;
        for (let v = 0; v < merged.length; v++) worst = Math.max(worst, Math.abs(merged[v]! - expected[v]!));
        assert.ok(worst <= 2e-6, `largest difference from the float64 formula ${worst}`);

        // The streaming merge does the same float32 arithmetic in the same order: the same bits.
        const streamed = new Float32Array(merged.length);
        const merger = new TileMerger({
          volumeShape: shape,
          tileShape: tile,
          weighting,
          sink: (slab) => streamed.set(slab.values, slab.start * shape[1] * shape[2]),
        });
        for (const { origin, prediction } of tiles) await merger.add(origin, prediction);
        await merger.finish();
        assert.deepEqual(streamed, merged);
      });
    }
  }

  it('takes an async iterable of tiles', async () => {
    const volume = seededBytes(shape[0] * shape[1] * shape[2], 8);
    async function* tiles() {
      for (const { origin, image } of cutTiles(volume, shape, tile, 0.5)) {
        yield { origin, prediction: identityPrediction(image) };
      }
    }
    const merged = await mergeTilesInMemory({ volumeShape: shape, tileShape: tile }, tiles());
    assert.ok(Math.abs(merged[100]! - volume[100]! / 255) <= 1e-6);
  });

  it('refuses a missing tile, a bad origin and a prediction of the wrong length, naming them', async () => {
    const full = new Float32Array(4 * 8 * 8);
    const check = (tiles: TilePrediction[], pattern: RegExp) =>
      assert.rejects(
        mergeTilesInMemory({ volumeShape: [8, 8, 8], tileShape: tile }, tiles),
        (error: unknown) => isFeedError(error) && pattern.test(error.message),
      );
    await check([{ origin: [0, 0, 0], prediction: full }], /voxel \[4, 0, 0\] got no tile/);
    await check(
      [{ origin: [0, 9, 0], prediction: full }],
      /tile origin \[0, 9, 0\] is outside the volume of shape \[8, 8, 8\]/,
    );
    await check(
      [{ origin: [0, 0, 0], prediction: new Float32Array(3) }],
      /holds 3 values; tile shape \[4, 8, 8\] needs a Float32Array of 256/,
    );
  });
});
