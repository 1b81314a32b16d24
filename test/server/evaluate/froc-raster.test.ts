import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PNG } from 'pngjs';
import { computeFroc } from '../../../server/evaluate/froc.js';
import {
  CURVE_COLOUR,
  drawFrocRaster,
  POINT_COLOUR,
  type Raster,
} from '../../../server/evaluate/froc-raster.js';
import { writeRasterPng } from '../../../server/evaluate/write-froc-png.js';

/** The rows holding `colour` in column x. */
function rowsOf(raster: Raster, x: number, colour: readonly number[]): number[] {
  const rows: number[] = [];
  for (let y = 0; y < raster.height; y++) {
    const at = (y * raster.width + x) * 4;
    if (colour.every((value, i) => raster.data[at + i] === value)) rows.push(y);
  }
  return rows;
}

/** The columns where `colour` appears at all. */
function columnsOf(raster: Raster, colour: readonly number[]): number[] {
  const columns: number[] = [];
  for (let x = 0; x < raster.width; x++) if (rowsOf(raster, x, colour).length > 0) columns.push(x);
  return columns;
}

describe('drawFrocRaster', () => {
  it('draws a flat curve as one row across the plot, with a dot at each of the seven rates', () => {
    // Half the nodules found and no false positive: sensitivity 0.5 at every rate.
    const flat = computeFroc([{ noduleScores: [0.9, null], falsePositiveScores: [] }]);
    const raster = drawFrocRaster(flat.curve, 400, 300);
    assert.equal(raster.data.length, 400 * 300 * 4);
    const curveColumns = columnsOf(raster, CURVE_COLOUR);
    assert.ok(curveColumns.length > 250, `the curve spans ${curveColumns.length} columns`);
    const rows = new Set(curveColumns.flatMap((x) => rowsOf(raster, x, CURVE_COLOUR)));
    assert.equal(rows.size, 1, `a flat curve lies on one row, not ${[...rows].join(', ')}`);
    // The dots: seven runs of adjacent columns in the point colour.
    const dots = columnsOf(raster, POINT_COLOUR).filter((x, i, all) => i === 0 || all[i - 1] !== x - 1);
    assert.equal(dots.length, 7);
    // Half way up the plot: the row lies between the top and bottom margins' middle, give or take a pixel.
    const [row] = rows;
    assert.ok(row! > 300 * 0.3 && row! < 300 * 0.7, `row ${row}`);
  });

  it('draws a rising curve higher on the right', () => {
    const rising = computeFroc([
      { noduleScores: [0.9, 0.6], falsePositiveScores: [0.8, 0.3] },
      { noduleScores: [null], falsePositiveScores: [0.7, 0.6, 0.2] },
    ]);
    const raster = drawFrocRaster(rising.curve);
    const columns = columnsOf(raster, CURVE_COLOUR);
    const left = Math.min(...rowsOf(raster, columns[5]!, CURVE_COLOUR));
    const right = Math.min(...rowsOf(raster, columns.at(-5)!, CURVE_COLOUR));
    assert.ok(right < left, `row ${right} on the right is not above row ${left} on the left`);
  });
});

describe('writeRasterPng', () => {
  it('writes a PNG that pngjs reads back pixel for pixel', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-froc-png-'));
    try {
      const raster = drawFrocRaster(
        computeFroc([{ noduleScores: [0.5], falsePositiveScores: [0.4] }]).curve,
        320,
        200,
      );
      const file = path.join(dir, 'froc.png');
      await writeRasterPng(raster, file);
      const png = PNG.sync.read(await readFile(file));
      assert.equal(png.width, 320);
      assert.equal(png.height, 200);
      assert.ok(Buffer.from(raster.data).equals(png.data));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says which path cannot be written and what to pass instead', async () => {
    const raster = drawFrocRaster(computeFroc([]).curve, 10, 10);
    await assert.rejects(
      writeRasterPng(raster, '/nonexistent-folder/froc.png'),
      /cannot write the FROC plot to \/nonexistent-folder\/froc\.png \(ENOENT\); pass --froc-png a path in a folder that exists/,
    );
  });
});
