import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PNG } from 'pngjs';
import type { SampleInfoView } from '../../../../../client/index.js';
import {
  type BrowserDeps,
  browserRoute,
} from '../../../../../trainer/inspect/preview/browser/browser-routes.js';
import type { PreviewBatch } from '../../../../../trainer/inspect/preview/preview-batch.js';
import { PREVIEW_COLOURS } from '../../../../../trainer/inspect/preview/preview-colours.js';

/** Two 2x4x4 crops: voxel value = its flat index in the crop; sample 0 has a 2x2 mask on slice 1. */
function batch(): PreviewBatch {
  const image = Uint8Array.from({ length: 64 }, (_, at) => at % 32);
  const mask = new Uint8Array(64);
  for (const at of [16 + 5, 16 + 6, 16 + 9, 16 + 10]) mask[at] = 1;
  const info = (index: number, mode: SampleInfoView['mode']): SampleInfoView => ({
    index,
    seriesUid: `uid-${index}`,
    mode,
    origin: [0, 0, 0],
    nodule: mode === 'negative' ? -1 : 0,
    noduleCenter: mode === 'negative' ? [] : [1, 1, 1],
    noduleDiameter: mode === 'negative' ? 0 : 2,
    item: index,
    foregroundVoxels: index === 0 ? 4 : 0,
  });
  return {
    step: 5,
    stepsInEpoch: 9,
    shape: [2, 2, 4, 4],
    image,
    mask,
    samples: [info(10, 'jitter'), info(11, 'negative')],
  };
}

const DEPS: BrowserDeps = {
  pages: { kind: 'steps', first: 5, last: 6 },
  request: { seed: '1' },
  batch: async () => batch(),
};

async function get(path: string, deps = DEPS) {
  return browserRoute(new URL(path, 'http://127.0.0.1:1'), deps);
}

describe('browserRoute', () => {
  it('serves the page, which loads its script from this process only', async () => {
    const page = await get('/');
    assert.equal(page.status, 200);
    assert.match(String(page.body), /<script src="\/app\.js"><\/script>/);
    assert.doesNotMatch(String(page.body), /https?:\/\//);
    assert.equal((await get('/app.js')).status, 200);
    assert.equal((await get('/nothing')).status, 404);
  });

  it('answers a batch with each record, its foreground and the per-mode statistics', async () => {
    const response = await get('/api/batch?key=5');
    const record = JSON.parse(String(response.body));
    assert.equal(record.step, 5);
    assert.deepEqual(
      record.samples.map((s: { index: number; foregroundVoxels: number }) => [s.index, s.foregroundVoxels]),
      [
        [10, 4],
        [11, 0],
      ],
    );
    assert.deepEqual(record.samples[0].centreInCrop, { z: 1, row: 1, col: 1 });
    assert.deepEqual(record.statistics.modes.jitter, {
      samples: 1,
      withForeground: 1,
      foregroundShare: 4 / 32,
    });
    assert.deepEqual(record.statistics.modes.negative, { samples: 1, withForeground: 0, foregroundShare: 0 });
    assert.equal(record.statistics.foregroundShare, 4 / 64);
  });

  it('draws a slice as PNG: contour and cross with the overlay, the voxels without it', async () => {
    const decode = async (path: string) => PNG.sync.read((await get(path)).body as Buffer);
    const plain = await decode('/api/slice.png?key=5&sample=0&z=1&overlay=0&scale=2');
    assert.equal(plain.width, 8);
    const rgb = (png: PNG, x: number, y: number) => [
      ...png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3),
    ];
    assert.deepEqual(rgb(plain, 2 * 2 + 1, 2 * 1), [16 + 6, 16 + 6, 16 + 6]); // voxel (row 1, col 2)
    const drawn = await decode('/api/slice.png?key=5&sample=0&z=1&scale=2');
    assert.deepEqual(rgb(drawn, 2 * 2 + 1, 2 * 2 + 1), PREVIEW_COLOURS.contour); // (2, 2): no cross there
    assert.deepEqual(rgb(drawn, 2 * 1, 2 * 1), PREVIEW_COLOURS.centre); // the centre voxel (1, 1)
    assert.deepEqual(rgb(drawn, 2 * 3 + 1, 2 * 3 + 1), [16 + 15, 16 + 15, 16 + 15]); // (3, 3): outside the mask
  });

  it('refuses a key outside the pages and a slice outside the crop with one line each', async () => {
    const step = await get('/api/batch?key=7');
    assert.equal(step.status, 400);
    assert.equal(step.body, 'key=7: give a whole number from 5 to 6\n');
    const z = await get('/api/slice.png?key=5&sample=0&z=2');
    assert.equal(z.body, 'z=2: give a whole number from 0 to 1\n');
    const indices = await get('/api/batch?key=3', { ...DEPS, pages: { kind: 'indices', indices: [4, 9] } });
    assert.equal(indices.body, 'key=3: this preview shows plan positions 4,9; pick one of them\n');
  });
});
