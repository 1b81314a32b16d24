import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PNG } from 'pngjs';
import { readNrrdVolume } from '../../server/dataset/nrrd/nrrd-reader.js';
import { CURVE_COLOUR } from '../../server/evaluate/froc-raster.js';
import type { Shape3 } from '../../server/sampling/types.js';
import { PHANTOM_MANIFEST_NAME, type PhantomSeriesEntry } from '../../server/synth/write-phantom-dataset.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { paintCube, writePredictionFile } from '../support/prediction-files.js';
import { type Finished, runVoxelfeed } from '../support/run-voxelfeed.js';

/*
 * `voxelfeed evaluate` end to end on a phantom data set, with predictions written here: each series' true
 * mask as a probability file (every nodule found, its component's centre at the sphere's centre) plus
 * false-positive cubes of 2x2x2 voxels in the corners of the volume, far from every nodule, at chosen scores.
 */

const SHAPE: Shape3 = [24, 48, 48];
/** Corners for false-positive cubes: 2 voxels deep into the volume, far apart. */
const CORNERS: ReadonlyArray<readonly [number, number, number]> = [
  [0, 0, 0],
  [SHAPE[0] - 2, SHAPE[1] - 2, SHAPE[2] - 2],
  [0, SHAPE[1] - 2, 0],
];

/**
 * Per series (sorted by uid; the phantom of seed 7 has 1, 1, 2 and 0 nodules): the uint8 value the true mask
 * is written with (round(255 p)), and the scores of its false positives.
 */
const PLAN = [
  { nodules: 1, mask: 230, falsePositives: [250] },
  { nodules: 1, mask: 150, falsePositives: [] },
  { nodules: 2, mask: 230, falsePositives: [200, 140] },
  { nodules: 0, mask: 230, falsePositives: [170] },
] as const;

function voxelfeed(args: readonly string[]): Promise<Finished> {
  return runVoxelfeed(['evaluate', ...args], {}, 120_000);
}

interface SeriesRow {
  readonly uid: string;
  readonly dice: number | null;
  readonly nodules: number;
  readonly found: number;
  readonly false_positives: number;
}

/** The JSON line, as far as these tests read it. */
interface Report {
  readonly threshold: number;
  readonly distance: string;
  readonly series: SeriesRow[];
  readonly totals: Record<string, number | null>;
  readonly froc: { rates: number[]; sensitivities: (number | null)[]; mean: number };
}

/** The last line of stdout, parsed. */
function jsonLine(finished: Finished): Report {
  const lines = finished.stdout.trim().split('\n');
  return JSON.parse(lines.at(-1)!);
}

/** What a person must never see: a stack trace. */
function assertNoStack(finished: Finished): void {
  assert.doesNotMatch(finished.stderr, /\n\s+at /, finished.stderr);
}

describe('voxelfeed evaluate on a phantom data set', () => {
  let dataset: TempDataset;
  let pred = '';
  let series: PhantomSeriesEntry[] = [];
  /** True mask voxels per series. */
  const maskVoxels: number[] = [];

  before(async () => {
    dataset = await createPhantomDataset({ series: 4, shape: SHAPE, seed: 7n });
    const manifest = JSON.parse(await readFile(path.join(dataset.dir, PHANTOM_MANIFEST_NAME), 'utf8')) as {
      files: PhantomSeriesEntry[];
    };
    series = [...manifest.files].sort((a, b) => (a.uid < b.uid ? -1 : 1));
    assert.deepEqual(
      series.map((entry) => entry.nodules.length),
      PLAN.map((entry) => entry.nodules),
      'the phantom of seed 7 has the nodules this test plans for',
    );
    pred = path.join(path.dirname(dataset.dir), 'pred');
    await mkdir(pred);
    for (const [index, entry] of series.entries()) {
      const plan = PLAN[index]!;
      for (const nodule of entry.nodules) {
        for (const corner of CORNERS) {
          const distance = Math.hypot(...nodule.center.map((c, axis) => c - (corner[axis]! + 0.5)));
          assert.ok(distance > nodule.diameter / 2 + 4, 'false positives lie far from every nodule');
        }
      }
      const { data } = await readNrrdVolume(path.join(dataset.dir, entry.mask));
      const values = new Uint8Array(data.length);
      let voxels = 0;
      for (let i = 0; i < values.length; i++) {
        if (data[i]! > 0) {
          values[i] = plan.mask;
          voxels++;
        }
      }
      maskVoxels.push(voxels);
      plan.falsePositives.forEach((score, k) => {
        paintCube(values, SHAPE, CORNERS[k]!, 2, score);
      });
      await writePredictionFile(pred, entry.uid, { sizes: SHAPE, values, kind: 'probability' });
    }
  });
  after(async () => {
    await dataset?.cleanup();
  });

  it('prints Dice, nodules found and false positives per series, the totals and the FROC, then a JSON line', async () => {
    const png = path.join(path.dirname(dataset.dir), 'froc.png');
    const finished = await voxelfeed(['--data', dataset.dir, '--pred', pred, '--froc-png', png]);
    assert.equal(finished.code, 0, finished.stderr);
    assert.equal(finished.stderr, '');
    const report = jsonLine(finished);
    // At 0.5 (uint8 128 and up) every mask value and every false positive is foreground.
    const dice = (index: number, extra: number): number =>
      (2 * maskVoxels[index]!) / (2 * maskVoxels[index]! + extra);
    assert.deepEqual(
      report.series.map((entry) => [entry.nodules, entry.found, entry.false_positives]),
      [
        [1, 1, 1],
        [1, 1, 0],
        [2, 2, 2],
        [0, 0, 1],
      ],
    );
    assert.deepEqual(
      report.series.map((entry) => entry.dice),
      [dice(0, 8), 1, dice(2, 16), 0],
    );
    assert.deepEqual(report.totals, {
      series: 4,
      nodules: 4,
      found: 4,
      false_positives: 4,
      sensitivity: 1,
      false_positives_per_scan: 1,
      mean_dice: (dice(0, 8) + 1 + dice(2, 16) + 0) / 4,
    });
    assert.equal(report.distance, 'mm', 'the phantom headers give spacings');
    /*
     * FROC over 4 scans and 4 nodules. Scores (x/255) from the top: FP 250; 3 nodules at 230; FP 200; FP 170;
     * the nodule at 150; FP 140. Operating points (FP per scan, sensitivity): (0, 0), (0.25, 0), (0.25, 0.75),
     * (0.5, 0.75), (0.75, 0.75), (0.75, 1), (1, 1). So: 1/8 -> 0 (between (0, 0) and (0.25, 0)); 1/4 -> 0.75
     * (the top of the rise at 0.25); 1/2 -> 0.75; 1, 2, 4, 8 -> 1. Mean: (0 + 0.75 + 0.75 + 4) / 7 = 11/14.
     */
    assert.deepEqual(report.froc.rates, [0.125, 0.25, 0.5, 1, 2, 4, 8]);
    assert.deepEqual(report.froc.sensitivities, [0, 0.75, 0.75, 1, 1, 1, 1]);
    assert.ok(Math.abs(report.froc.mean - 11 / 14) < 1e-12, String(report.froc.mean));

    const table = finished.stdout;
    for (const [index, entry] of series.entries())
      assert.match(table, new RegExp(`^${entry.uid.replaceAll('.', '\\.')}\\s`, 'm'), `row ${index}`);
    assert.match(table, /^total \(4 series, mean Dice\)/m);
    assert.match(table, /sensitivity 4\/4 = 1\.000, 1\.00 false positives per scan; distances in mm/);
    assert.match(
      table,
      /^sensitivity \(FROC\)\s+0\.000\s+0\.750\s+0\.750\s+1\.000\s+1\.000\s+1\.000\s+1\.000\s+0\.786$/m,
    );

    const image = PNG.sync.read(await readFile(png));
    assert.equal(image.width, 640);
    assert.equal(image.height, 480);
    let curveColumns = 0;
    for (let x = 0; x < image.width; x++) {
      for (let y = 0; y < image.height; y++) {
        const at = (y * image.width + x) * 4;
        if (CURVE_COLOUR.every((value, i) => image.data[at + i] === value)) {
          curveColumns++;
          break;
        }
      }
    }
    assert.ok(curveColumns > 400, `the curve crosses ${curveColumns} columns of the plot`);
  });

  it('applies --threshold: a nodule and a false positive below it drop out', async () => {
    // 0.6 is uint8 153 and up: the mask written at 150 and the false positive at 140 are background.
    const finished = await voxelfeed(['--data', dataset.dir, '--pred', pred, '--threshold', '0.6', '--json']);
    assert.equal(finished.code, 0, finished.stderr);
    assert.equal(finished.stdout.trim().split('\n').length, 1, '--json prints the JSON line only');
    const report = jsonLine(finished);
    assert.equal(report.threshold, 0.6);
    assert.deepEqual([report.totals.found, report.totals.false_positives], [3, 3]);
    assert.equal(report.series[1]!.dice, 0);
  });

  it('evaluates only the series named with --series', async () => {
    const uid = series[2]!.uid;
    const finished = await voxelfeed(['--data', dataset.dir, '--pred', pred, '--series', uid, '--json']);
    assert.equal(finished.code, 0, finished.stderr);
    const report = jsonLine(finished);
    assert.deepEqual(
      report.series.map((entry) => entry.uid),
      [uid],
    );
    assert.equal(report.totals.false_positives, 2);
  });

  describe('with predictions missing, of the wrong shape or unreadable', () => {
    let partial = '';
    before(async () => {
      partial = path.join(path.dirname(dataset.dir), 'partial');
      await mkdir(partial);
      // Series 0: fine. Series 1: none. Series 2: one voxel short along axis 2. Series 3: not an NRRD.
      const sizes: Shape3 = [SHAPE[0], SHAPE[1], SHAPE[2] - 1];
      await writePredictionFile(partial, series[0]!.uid, {
        sizes: SHAPE,
        values: new Uint8Array(SHAPE[0] * SHAPE[1] * SHAPE[2]),
        kind: 'mask',
      });
      await writePredictionFile(partial, series[2]!.uid, {
        sizes,
        values: new Uint8Array(sizes[0] * sizes[1] * sizes[2]),
        kind: 'probability',
      });
      await writeFile(path.join(partial, `${series[3]!.uid}_pred.nrrd`), 'not a volume\n');
    });

    it('evaluates the good ones, says which are missing and how to make them, and refuses the others', async () => {
      const finished = await voxelfeed(['--data', dataset.dir, '--pred', partial]);
      assert.equal(finished.code, 1);
      assertNoStack(finished);
      const report = jsonLine(finished);
      assert.deepEqual(
        report.series.map((entry) => entry.uid),
        [series[0]!.uid],
      );
      const lines = finished.stderr.trim().split('\n');
      assert.deepEqual(
        lines.map((line) => line.slice(0, 40)),
        [
          'voxelfeed evaluate: warning: 1 of 4 seri',
          `voxelfeed evaluate: ${series[2]!.uid}`.slice(0, 40),
          `voxelfeed evaluate: ${series[3]!.uid}`.slice(0, 40),
        ],
        finished.stderr,
      );
      assert.match(
        lines[0]!,
        new RegExp(
          `have no <uid>_pred\\.nrrd in .*partial and were not evaluated \\(${series[1]!.uid}\\); predict them with voxelfeed infer`,
        ),
      );
      assert.match(
        lines[1]!,
        /has shape 24x48x47 but the image .*_clean\.nrrd has 24x48x48; predict this series again/,
      );
      assert.match(lines[2]!, /not an NRRD file/);
    });

    it('fails for a series named with --series that has no prediction, naming the file', async () => {
      const uid = series[1]!.uid;
      const finished = await voxelfeed([
        '--data',
        dataset.dir,
        '--pred',
        partial,
        '--series',
        `${series[0]!.uid},${uid}`,
      ]);
      assert.equal(finished.code, 1);
      assertNoStack(finished);
      assert.match(
        finished.stderr,
        new RegExp(
          `${uid.replaceAll('.', '\\.')}: no .*partial/${uid.replaceAll('.', '\\.')}_pred\\.nrrd; predict it with voxelfeed infer`,
        ),
      );
      assert.match(finished.stdout, /^not evaluated: /m);
    });
  });

  describe('bad input', () => {
    it('names a prediction folder that does not exist, in one line', async () => {
      const finished = await voxelfeed(['--data', dataset.dir, '--pred', '/nonexistent/predictions']);
      assert.equal(finished.code, 1);
      assert.equal(finished.stdout, '');
      assert.equal(
        finished.stderr,
        'voxelfeed evaluate: prediction folder /nonexistent/predictions does not exist; pass --pred the folder voxelfeed infer wrote its <uid>_pred.nrrd files to\n',
      );
    });

    it('names a data set that does not exist, in one line', async () => {
      const finished = await voxelfeed(['--data', '/nonexistent/data', '--pred', pred]);
      assert.equal(finished.code, 1);
      assert.match(
        finished.stderr,
        /^voxelfeed evaluate: data set \/nonexistent\/data does not exist; pass a folder or a manifest/,
      );
      assert.equal(finished.stderr.trim().split('\n').length, 1);
    });

    it('lists every missing or bad option at once, with exit status 2', async () => {
      const finished = await voxelfeed(['--threshold', '0']);
      assert.equal(finished.code, 2);
      assertNoStack(finished);
      for (const fragment of [
        '--threshold 0: must be a number above 0 and at most 1',
        'missing --data PATH',
        'missing --pred DIR',
      ]) {
        assert.ok(finished.stderr.includes(fragment), `"${finished.stderr}" lacks "${fragment}"`);
      }
    });

    it('prints its help', async () => {
      const finished = await voxelfeed(['--help']);
      assert.equal(finished.code, 0);
      assert.match(finished.stdout, /^Usage: voxelfeed evaluate --data PATH --pred DIR/);
      assert.match(finished.stdout, /--froc-png FILE/);
    });
  });
});
