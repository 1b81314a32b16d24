import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { montageLayout } from '../../../../trainer/inspect/preview/montage-layout.js';

const BASE = {
  samples: 2,
  slices: 3,
  tileWidth: 10,
  tileHeight: 8,
  gap: 2,
  labelHeight: 5,
  captionHeight: 4,
  captionWidth: 0,
};

describe('montageLayout', () => {
  it('puts slice labels on top, then per sample a caption band and a row of tiles, gap apart', () => {
    const layout = montageLayout(BASE);
    assert.deepEqual(layout.sliceLabels, [
      { x: 2, y: 2 },
      { x: 14, y: 2 },
      { x: 26, y: 2 },
    ]);
    assert.deepEqual(layout.captions, [
      { x: 2, y: 7 },
      { x: 2, y: 21 },
    ]);
    assert.deepEqual(layout.tiles[1]![2], { x: 26, y: 25 });
    assert.equal(layout.width, 2 + 3 * 10 + 2 * 2 + 2);
    assert.equal(layout.height, 7 + 2 * (4 + 8 + 2));
  });

  it('widens the image for a caption longer than the row, never overlapping tiles', () => {
    const layout = montageLayout({ ...BASE, captionWidth: 100 });
    assert.equal(layout.width, 104);
    const tiles = layout.tiles.flat();
    for (const a of tiles) {
      for (const b of tiles) {
        if (a === b) continue;
        const apart = a.x + 10 <= b.x || b.x + 10 <= a.x || a.y + 8 <= b.y || b.y + 8 <= a.y;
        assert.ok(apart, `${JSON.stringify(a)} and ${JSON.stringify(b)} overlap`);
      }
    }
  });
});
