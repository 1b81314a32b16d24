import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  axisTileOrigins,
  tileGrid,
  tileIndices,
  tileNumber,
  tileOrigin,
} from '../../../server/sampling/tile-grid.js';

describe('axisTileOrigins', () => {
  const table: [volume: number, tile: number, overlap: number, origins: number[]][] = [
    // One tile when the volume fits, padded past the edge when it is smaller.
    [10, 10, 0.5, [0]],
    [7, 10, 0.5, [0]],
    [1, 1, 0, [0]],
    // No overlap: steps of the tile, the last tile shifted inside.
    [20, 10, 0, [0, 10]],
    [25, 10, 0, [0, 8, 15]],
    // nnU-Net's default half overlap: 96 voxels of 64-voxel tiles, s = 32.
    [96, 64, 0.5, [0, 32]],
    [100, 64, 0.5, [0, 18, 36]],
    // s = 3.5 is not an integer: steps 3, 4, 3 (mean 10 / 3 <= 3.5).
    [17, 7, 0.5, [0, 3, 7, 10]],
    // A step below one voxel is one voxel.
    [5, 2, 0.9, [0, 1, 2, 3]],
    // Exact halves round up: 1 * 3 / 2 + 1/2 = 2.
    [5, 2, 0, [0, 2, 3]],
    // LUNA16-like: 300 slices in tiles of 16 at half overlap, s = 8.
    [300, 16, 0.5, Array.from({ length: 37 }, (_, i) => Math.floor((i * 284) / 36 + 0.5))],
  ];
  for (const [volume, tile, overlap, origins] of table) {
    it(`puts tiles of ${tile} over ${volume} voxels at overlap ${overlap} at ${origins.length <= 6 ? origins.join(', ') : `${origins.length} origins`}`, () => {
      assert.deepEqual(axisTileOrigins(volume, tile, overlap), origins);
    });
  }

  it('keeps every invariant of the rule over many volumes, tiles and overlaps', () => {
    let cases = 0;
    for (let volume = 1; volume <= 140; volume += 3) {
      for (const tile of [1, 2, 3, 5, 8, 16, 31, 64, 96, 128]) {
        for (const overlap of [0, 0.1, 0.25, 1 / 3, 0.5, 0.6, 0.75, 0.9, 0.99, Math.fround(0.3)]) {
          cases += 1;
          const origins = axisTileOrigins(volume, tile, overlap);
          const where = `volume ${volume}, tile ${tile}, overlap ${overlap}: ${origins.join(',')}`;
          assert.deepEqual(axisTileOrigins(volume, tile, overlap), origins, `not deterministic: ${where}`);
          assert.equal(origins[0], 0, where);
          if (volume <= tile) {
            assert.deepEqual(origins, [0], where);
            continue;
          }
          const step = Math.max(1, tile * (1 - overlap));
          assert.equal(origins.length, Math.ceil((volume - tile) / step) + 1, where);
          assert.equal(
            origins[origins.length - 1]! + tile,
            volume,
            `the last tile ends at the edge: ${where}`,
          );
          const steps = origins.slice(1).map((origin, i) => origin - origins[i]!);
          for (const gap of steps) {
            assert.ok(gap >= 1, `strictly increasing: ${where}`);
            assert.ok(gap <= Math.ceil(step), `a step over ceil(${step}): ${where}`);
            assert.ok(gap <= tile, `a gap between tiles: ${where}`);
          }
          assert.ok((volume - tile) / steps.length <= step, `mean step over ${step}: ${where}`);
          assert.ok(Math.max(...steps) - Math.min(...steps) <= 1, `uneven steps: ${where}`);
          // Every voxel lies in some tile.
          const covered = new Uint8Array(volume);
          for (const origin of origins) covered.fill(1, origin, origin + tile);
          assert.ok(
            covered.every((c) => c === 1),
            `a voxel no tile covers: ${where}`,
          );
        }
      }
    }
    assert.ok(cases > 4000);
  });
});

describe('tileGrid', () => {
  const grid = tileGrid([20, 100, 30], [16, 64, 64], [0.5, 0.5, 0]);

  it('combines the axes: counts, tiles and origins per axis', () => {
    assert.deepEqual(grid.origins, [[0, 4], [0, 18, 36], [0]]);
    assert.deepEqual(grid.counts, [2, 3, 1]);
    assert.equal(grid.tiles, 6);
  });

  it('numbers tiles with axis 0 slowest and maps numbers and indices both ways', () => {
    const origins = Array.from({ length: grid.tiles }, (_, t) => tileOrigin(grid, t));
    assert.deepEqual(origins, [
      [0, 0, 0],
      [0, 18, 0],
      [0, 36, 0],
      [4, 0, 0],
      [4, 18, 0],
      [4, 36, 0],
    ]);
    for (let t = 0; t < grid.tiles; t++) assert.equal(tileNumber(grid, tileIndices(grid, t)), t);
  });

  it('sends axis-0 origins in ascending order, so a slab below z is complete once z is seen', () => {
    const big = tileGrid([50, 40, 33], [8, 16, 16], [0.5, 0.25, 0.5]);
    let last = -1;
    for (let t = 0; t < big.tiles; t++) {
      const [o0] = tileOrigin(big, t);
      assert.ok(o0 >= last);
      last = o0;
    }
    assert.equal(big.tiles, big.counts[0] * big.counts[1] * big.counts[2]);
  });

  it('refuses a tile number or indices outside the grid', () => {
    assert.throws(() => tileOrigin(grid, 6), /tile 6 is not one of the grid's 6 tiles/);
    assert.throws(() => tileOrigin(grid, -1), RangeError);
    assert.throws(() => tileNumber(grid, [2, 0, 0]), /outside a 2x3x1 grid/);
  });
});
