import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pixelAt, rgbaImage } from '../../../../trainer/inspect/image/rgba-image.js';
import { PREVIEW_COLOURS } from '../../../../trainer/inspect/preview/preview-colours.js';
import { renderSlice } from '../../../../trainer/inspect/preview/render-slice.js';

describe('renderSlice', () => {
  // A 5x5 slice, grey levels 10 * (row * 5 + col), a 3x3 mask in the middle.
  const voxels = Uint8Array.from({ length: 25 }, (_, at) => 10 * at);
  const mask = Uint8Array.from({ length: 25 }, (_, at) =>
    at % 5 >= 1 && at % 5 <= 3 && at >= 5 && at < 20 ? 1 : 0,
  );

  it('draws voxels as scale x scale grey blocks and the contour in its colour, at the offset', () => {
    const image = rgbaImage(20, 20, [0, 0, 0]);
    renderSlice(image, 2, 3, { voxels, mask, rows: 5, cols: 5, scale: 3, centre: null });
    assert.deepEqual(pixelAt(image, 2 + 0 * 3 + 1, 3 + 4 * 3 + 2), [200, 200, 200]); // voxel (4, 0)
    assert.deepEqual(pixelAt(image, 2 + 1 * 3, 3 + 1 * 3), PREVIEW_COLOURS.contour); // (1, 1), a corner
    assert.deepEqual(pixelAt(image, 2 + 2 * 3 + 2, 3 + 2 * 3 + 2), [120, 120, 120]); // (2, 2), inside
    assert.deepEqual(pixelAt(image, 1, 3), [0, 0, 0]); // left of the tile: untouched
  });

  it('draws no contour without a mask, and a centre cross clipped to the tile', () => {
    const image = rgbaImage(10, 10, [0, 0, 0]);
    renderSlice(image, 0, 0, { voxels, mask: null, rows: 5, cols: 5, scale: 1, centre: { row: 0, col: 4 } });
    assert.deepEqual(pixelAt(image, 1, 1), [60, 60, 60]);
    assert.deepEqual(pixelAt(image, 4, 0), PREVIEW_COLOURS.centre);
    assert.deepEqual(pixelAt(image, 2, 0), PREVIEW_COLOURS.centre); // two voxels left
    assert.deepEqual(pixelAt(image, 4, 2), PREVIEW_COLOURS.centre); // two voxels down
    assert.deepEqual(pixelAt(image, 4, 3), [190, 190, 190]);
    assert.deepEqual(pixelAt(image, 5, 0), [0, 0, 0]); // the arm past the tile's edge is clipped
  });
});
