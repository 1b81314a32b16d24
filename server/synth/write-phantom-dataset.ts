import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { VoxelfeedError } from '../errors.js';
import type { Nodule, Shape3 } from '../sampling/types.js';
import { encodeNpy } from './npy-writer.js';
import { encodeNrrd } from './nrrd-writer.js';
import { checkPhantomShape, generatePhantom, MAX_PHANTOM_LABELS, type Phantom } from './phantom-volume.js';
import { seriesUid } from './series-uid.js';

/** Written last, so a folder that has it holds every series it lists. */
export const PHANTOM_MANIFEST_NAME = 'voxelfeed-synth.json';
export const MAX_PHANTOM_SERIES = 100_000;
/**
 * Level 1: the noise leaves the images hard to compress whatever the effort. Measured on 64 series of
 * 128x192x192 (2 cores): level 1 wrote 161.6 MiB in 7.5 s, level 6 158.4 MiB in 10.3 s, 2% smaller for
 * 40% more time. The phantom can be regenerated at will, so its files favour speed.
 */
export const DEFAULT_PHANTOM_GZIP_LEVEL = 1;

export interface WritePhantomDatasetOptions {
  readonly series: number;
  readonly shape: Shape3;
  readonly seed: bigint;
  /** Mask labels 1..labels, nodule k of a series labelled 1 + (k mod labels); default 1. */
  readonly labels?: number;
  /** zlib level 0..9 of the NRRD files; default DEFAULT_PHANTOM_GZIP_LEVEL. */
  readonly gzipLevel?: number;
  /** Called after each series' three files are in place. */
  readonly onSeries?: (done: number, total: number) => void;
}

export interface PhantomDatasetSummary {
  readonly series: number;
  readonly nodules: number;
  /** Bytes of every file written, the manifest included. */
  readonly bytes: number;
  readonly dir: string;
}

/** One series as the manifest lists it; file names are relative to the data set folder. */
export interface PhantomSeriesEntry {
  readonly uid: string;
  readonly image: string;
  readonly mask: string;
  readonly boxes: string;
  readonly nodules: readonly Nodule[];
}

/**
 * Writes under a temporary name in the same folder, then renames: a reader or a crash never sees a half
 * file under the final name (rename within one file system is atomic). No fsync: the data set can be
 * regenerated, and a power loss is not worth 3 syncs per series.
 */
async function writeAtomically(file: string, data: Uint8Array | string): Promise<number> {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temp, data);
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
}

/** Rows [c0, c1, c2, d] as float32: centres and diameters are multiples of 1/8, exact in float32. */
function boxesOf(nodules: readonly Nodule[]): Float32Array {
  const rows = new Float32Array(nodules.length * 4);
  nodules.forEach((nodule, i) => {
    rows.set([...nodule.center, nodule.diameter], i * 4);
  });
  return rows;
}

async function writeSeries(
  dir: string,
  uid: string,
  phantom: Phantom,
  shape: Shape3,
  gzipLevel: number,
): Promise<{ entry: PhantomSeriesEntry; bytes: number }> {
  const entry: PhantomSeriesEntry = {
    uid,
    image: `${uid}_clean.nrrd`,
    mask: `${uid}_mask.nrrd`,
    boxes: `${uid}_bboxes.npy`,
    nodules: phantom.nodules,
  };
  const common = {
    sizes: shape,
    type: 'uint8',
    encoding: 'gzip',
    gzipLevel,
    spacings: [1, 1, 1],
    kinds: ['domain', 'domain', 'domain'],
  } as const;
  // Both gzips start now on the thread pool; the caller builds the next phantom meanwhile.
  const [image, mask] = await Promise.all([
    encodeNrrd({ ...common, data: phantom.image, content: `voxelfeed phantom ${uid} image` }),
    encodeNrrd({ ...common, data: phantom.mask, content: `voxelfeed phantom ${uid} nodule mask` }),
  ]);
  const boxes = encodeNpy(boxesOf(phantom.nodules), [phantom.nodules.length, 4]);
  const sizes = await Promise.all([
    writeAtomically(path.join(dir, entry.image), image),
    writeAtomically(path.join(dir, entry.mask), mask),
    writeAtomically(path.join(dir, entry.boxes), boxes),
  ]);
  return { entry, bytes: sizes.reduce((sum, size) => sum + size, 0) };
}

function checkOptions(options: WritePhantomDatasetOptions): number {
  const { series } = options;
  if (!Number.isSafeInteger(series) || series < 1 || series > MAX_PHANTOM_SERIES) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `phantom series count ${series} is outside 1..${MAX_PHANTOM_SERIES}; e.g. 8`,
    );
  }
  checkPhantomShape(options.shape);
  const labels = options.labels ?? 1;
  if (!Number.isInteger(labels) || labels < 1 || labels > MAX_PHANTOM_LABELS) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `mask labels ${labels} is outside 1..${MAX_PHANTOM_LABELS}; e.g. 3`,
    );
  }
  const level = options.gzipLevel ?? DEFAULT_PHANTOM_GZIP_LEVEL;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new VoxelfeedError('INVALID_ARGUMENT', `gzip level ${level} is outside 0..9; e.g. 1`);
  }
  return level;
}

/**
 * Generates `series` phantoms into `outDir` (created if needed) as a LUNA16-preprocessed layout:
 * `<uid>_clean.nrrd`, `<uid>_mask.nrrd` (gzip NRRD, uint8) and `<uid>_bboxes.npy` (float32, shape (N, 4)),
 * then `voxelfeed-synth.json` with the options and the file list. Series N+1 is generated on the main
 * thread while series N is compressed on the thread pool. Files of other data sets in the folder are kept.
 */
export async function writePhantomDataset(
  outDir: string,
  options: WritePhantomDatasetOptions,
): Promise<PhantomDatasetSummary> {
  const gzipLevel = checkOptions(options);
  const { series, shape, seed } = options;
  const dir = path.resolve(outDir);
  await mkdir(dir, { recursive: true });
  const entries: PhantomSeriesEntry[] = [];
  let bytes = 0;
  let pending: Promise<void> | null = null;
  try {
    for (let index = 0; index < series; index++) {
      const uid = seriesUid(seed, index);
      const phantom = generatePhantom({
        shape,
        seed,
        seriesIndex: index,
        ...(options.labels === undefined ? {} : { labels: options.labels }),
      });
      if (pending !== null) await pending;
      pending = writeSeries(dir, uid, phantom, shape, gzipLevel).then((written) => {
        entries.push(written.entry);
        bytes += written.bytes;
        options.onSeries?.(index + 1, series);
      });
    }
    await pending;
  } catch (error) {
    // Let the series in flight settle so no write runs on after we report the failure.
    await pending?.catch(() => undefined);
    throw error;
  }
  const nodules = entries.reduce((sum, entry) => sum + entry.nodules.length, 0);
  const manifest = {
    generator: 'voxelfeed synth',
    format: 1,
    seed: seed.toString(),
    shape,
    series,
    gzipLevel,
    ...((options.labels ?? 1) > 1 ? { labels: options.labels } : {}),
    nodules,
    files: entries,
  };
  bytes += await writeAtomically(
    path.join(dir, PHANTOM_MANIFEST_NAME),
    JSON.stringify(manifest, null, 2) + '\n',
  );
  return { series, nodules, bytes, dir };
}
