import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PNG } from 'pngjs';
import type { SampleInfoView } from '../../../../client/feed-batch.js';
import { cropStats } from '../../../../trainer/inspect/stats/crop-stats.js';
import { BAR_RGBA, barColumns, PANEL_LAYOUT } from '../../../../trainer/inspect/stats/histogram-png.js';
import {
  foregroundHistogram,
  writeStatsHistograms,
} from '../../../../trainer/inspect/stats/stats-histograms.js';

/** Jitter crops whose nodule centre falls, along axis 0, in tenth k of the crop `perTenth[k]` times. */
function samplesWithPositions(perTenth: readonly number[]): SampleInfoView[] {
  return perTenth.flatMap((times, k) =>
    Array.from({ length: times }, (_, i) => ({
      index: k * 100 + i,
      seriesUid: 'a',
      mode: 'jitter' as const,
      // crop 20 long: centre c at origin 0 sits at (c + 0.5) / 20, in tenth k for c = 2k.
      origin: [0, 0, 0] as const,
      nodule: 0,
      noduleCenter: [2 * k, 9, 9],
      noduleDiameter: 2,
      item: 0,
      foregroundVoxels: 3 * k + i,
    })),
  );
}

/** The height of the bar-coloured column at x in the panel at `panel`, counted up from the baseline. */
function barPixels(png: PNG, panel: number, x: number): number {
  const baseline = PANEL_LAYOUT.plotTop + PANEL_LAYOUT.plotHeight;
  let height = 0;
  for (let y = baseline - 1; y >= 0; y--) {
    const at = (y * png.width + panel * PANEL_LAYOUT.width + x) * 4;
    if (![0, 1, 2, 3].every((c) => png.data[at + c] === BAR_RGBA[c])) break;
    height += 1;
  }
  return height;
}

describe('writeStatsHistograms', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-stats-png-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('draws one panel per axis at the stated size, each bar as tall as its count is large', async () => {
    const perTenth = [0, 3, 7, 1, 12, 5, 0, 2, 9, 4];
    const stats = cropStats(samplesWithPositions(perTenth), [20, 20, 20]);
    assert.deepEqual(stats.jitter.centre[0].histogram, perTenth, 'the samples fall where meant');
    const files = await writeStatsHistograms(stats, path.join(dir, 'out'));
    assert.deepEqual(
      files.map((f) => path.basename(f)),
      ['centre-position-jitter.png', 'foreground-voxels.png'],
    );
    const png = PNG.sync.read(await readFile(files[0]!));
    assert.equal(png.width, 3 * PANEL_LAYOUT.width);
    assert.equal(png.height, PANEL_LAYOUT.height);
    const heights = perTenth.map((_, k) => {
      const bar = barColumns(k, perTenth.length);
      return barPixels(png, 0, bar.x + Math.floor(bar.width / 2));
    });
    assert.equal(heights[4], PANEL_LAYOUT.plotHeight, 'the largest count reaches the top');
    assert.equal(heights[0], 0);
    for (let a = 0; a < perTenth.length; a++) {
      for (let b = 0; b < perTenth.length; b++) {
        if (perTenth[a]! < perTenth[b]!) assert.ok(heights[a]! < heights[b]!, `bins ${a} < ${b}: ${heights}`);
        if (perTenth[a] === perTenth[b]) assert.equal(heights[a], heights[b]);
      }
    }
    // Axis 1: every centre at 9.5 / 20, in bin 4 alone.
    const axis1 = barColumns(4, 10);
    assert.equal(barPixels(png, 1, axis1.x + 1), PANEL_LAYOUT.plotHeight);
    const foreground = PNG.sync.read(await readFile(files[1]!));
    assert.equal(foreground.width, 2 * PANEL_LAYOUT.width, 'jitter and all');
  });

  it('refuses a folder it cannot create in one line naming it and the fix', async () => {
    const file = path.join(dir, 'a-file');
    await writeFile(file, 'x');
    const stats = cropStats(samplesWithPositions([1]), [20, 20, 20]);
    await assert.rejects(writeStatsHistograms(stats, path.join(file, 'sub')), (error: Error) => {
      assert.match(
        error.message,
        /^--png-dir .*a-file\/sub: cannot write the histograms there \(ENOTDIR\); choose a writable folder$/,
      );
      return true;
    });
  });
});

describe('foregroundHistogram', () => {
  it('keeps crops with no foreground apart and splits the rest in nine equal bins up to the largest', () => {
    assert.deepEqual(foregroundHistogram([0, 0, 9, 1, 2, 5, 9]), {
      counts: [2, 1, 1, 0, 0, 1, 0, 0, 0, 2],
      max: 9,
    });
    assert.deepEqual(foregroundHistogram([0]), { counts: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0], max: 0 });
  });
});
