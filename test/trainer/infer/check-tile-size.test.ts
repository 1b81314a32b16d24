import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkTileSize } from '../../../trainer/infer/check-tile-size.js';

describe('checkTileSize', () => {
  it('takes sides that are multiples of 2^(depth-1)', () => {
    checkTileSize([16, 96, 96], 5, '--tile 16,96,96');
    checkTileSize([4, 8, 12], 3, '--tile 4,8,12');
  });

  it('names the axes, the multiple and the nearest valid tile', () => {
    assert.throws(
      () => checkTileSize([20, 90, 96], 5, '--tile 20,90,96'),
      (error: Error) => {
        assert.equal(
          error.message,
          "--tile 20,90,96: the checkpoint's V-Net (depth 5) takes tile sides that are multiples of 16 (2^(depth-1)); axis 0 (20), axis 1 (90) are not; the nearest valid tile is --tile 16,96,96",
        );
        return true;
      },
    );
    assert.throws(
      () => checkTileSize([2, 8, 8], 3, 'the crop'),
      /axis 0 \(2\) is not; the nearest valid tile is --tile 4,8,8/,
    );
    assert.throws(() => checkTileSize([6, 8, 8], 3, 'the crop'), /--tile 8,8,8/);
  });
});
