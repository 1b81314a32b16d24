import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { FeedError } from './feed-error.js';
import { type NrrdEncoding, predictionNrrdHeader } from './prediction-nrrd-header.js';
import { checkShape, type Shape3 } from './shape3.js';
import { columnsOfSlab, SlabSpool } from './slab-spool.js';
import type { MergedSlab } from './tile-merger.js';

/** The transpose's default memory: the block of NRRD output and the slab reads that fill it. */
export const DEFAULT_TRANSPOSE_BUDGET_BYTES = 16 << 20;

export interface NrrdSlabWriterOptions {
  /** The NRRD file to write, e.g. `<uid>_pred.nrrd`; replaced atomically when done. */
  readonly path: string;
  /** The volume's shape (TileBatch.volume_shape), NRRD axis order: the file's `sizes`. */
  readonly volumeShape: Shape3;
  /** Millimetres per axis (TileBatch.spacing), NRRD axis order; empty or absent when unknown. */
  readonly spacing?: readonly number[];
  /** Written as `voxelfeed_series:=<uid>`. */
  readonly seriesUid?: string;
  /** Absent: probabilities as uint8 round(255 p). Set (0 < t <= 1): a mask, 1 where p >= t, else 0. */
  readonly threshold?: number;
  /** Default `gzip`. */
  readonly encoding?: NrrdEncoding;
  /** zlib level 0..9 for gzip; default 6. */
  readonly gzipLevel?: number;
  /**
   * Bytes the final transpose may hold; default 16 MiB. It works on whole columns of v0 voxels (plus their
   * reads, up to the rows of a slab each): a smaller budget still takes one column at a time.
   */
  readonly transposeBudgetBytes?: number;
}

/**
 * Writes merged slabs (a TileMerger's sink) as an NRRD file of the volume's shape, axis order and spacing,
 * uint8, so that teem-unu or pynrrd read an array that overlays the input image. Slabs arrive along axis 0,
 * the NRRD file's fastest axis, so they cannot be written in place: `write` converts each slab to uint8 and
 * appends it to a spool file beside the output; `close` then writes the NRRD by a blocked transpose that
 * holds at most `transposeBudgetBytes`, gzip-compressed or raw, under a temporary name that is renamed to
 * `path` at the end. On any error (or `abort`) the temporary files are removed and `path` is untouched.
 *
 * Memory: one uint8 copy of the largest slab while spooling, then the transpose budget.
 */
export class NrrdSlabWriter {
  readonly path: string;
  private readonly options: NrrdSlabWriterOptions;
  private readonly shape: Shape3;
  private readonly spool: SlabSpool;
  private readonly temp: string;
  private columns = new Uint8Array(0);
  private rowsWritten = 0;
  private peak = 0;
  private state: 'open' | 'closed' | 'failed' = 'open';

  private constructor(options: NrrdSlabWriterOptions, spool: SlabSpool, temp: string) {
    this.path = options.path;
    this.options = options;
    this.shape = [...options.volumeShape];
    this.spool = spool;
    this.temp = temp;
  }

  /** Checks the options and creates the spool file beside `path`. */
  static async create(options: NrrdSlabWriterOptions): Promise<NrrdSlabWriter> {
    checkOptions(options);
    const dir = path.dirname(options.path);
    const stem = `.${path.basename(options.path)}.${randomBytes(6).toString('hex')}`;
    const spool = await SlabSpool.create(path.join(dir, `${stem}.spool`)).catch((error: unknown) => {
      const details = `cannot create a file beside ${options.path}: ${(error as Error).message}; check that the folder exists and is writable`;
      throw new FeedError('INVALID_ARGUMENT', details, `NRRD writer: ${details}`, { cause: error });
    });
    return new NrrdSlabWriter(options, spool, path.join(dir, `${stem}.tmp`));
  }

  /** The most bytes the writer's own buffers held at once so far. */
  get peakBytes(): number {
    return this.peak;
  }

  /** The sink for TileMerger: appends the next slab. Slabs must come in order, each row once. */
  readonly write = async (slab: MergedSlab): Promise<void> => {
    this.checkOpen('write');
    const [v0, v1, v2] = this.shape;
    const expected = slab.rowCount * v1 * v2;
    if (slab.start !== this.rowsWritten || slab.rowCount < 1 || slab.start + slab.rowCount > v0) {
      await this.fail();
      throw invalid(
        `slab of rows [${slab.start}, ${slab.start + slab.rowCount}) does not follow the ${this.rowsWritten} rows ` +
          `written of ${v0}; hand the slabs in order, each row once (TileMerger does)`,
      );
    }
    if (slab.values.length !== expected) {
      await this.fail();
      throw invalid(
        `slab of ${slab.rowCount} rows holds ${slab.values.length} values; a volume of shape ` +
          `[${this.shape.join(', ')}] needs ${expected}`,
      );
    }
    if (this.columns.length < expected) {
      this.columns = new Uint8Array(expected);
      this.peak = Math.max(this.peak, expected);
    }
    const columns = columnsOfSlab(slab.values, slab.rowCount, [v1, v2], this.options.threshold, this.columns);
    try {
      await this.spool.append(slab.start, slab.rowCount, columns);
    } catch (error) {
      await this.fail();
      throw error;
    }
    this.rowsWritten += slab.rowCount;
  };

  /** Writes the NRRD file from the spool, renames it to `path` and deletes the spool. */
  async close(): Promise<void> {
    this.checkOpen('close');
    const [v0] = this.shape;
    if (this.rowsWritten !== v0) {
      await this.fail();
      throw invalid(
        `only ${this.rowsWritten} of ${v0} rows were written; finish the merger (TileMerger.finish) before close`,
      );
    }
    this.columns = new Uint8Array(0);
    try {
      await this.writeNrrd();
      await rename(this.temp, this.path);
    } catch (error) {
      await this.fail();
      throw error;
    }
    this.state = 'closed';
    await this.spool.remove();
  }

  /** Removes the temporary files; `path` is left as it was. Safe to call at any time, more than once. */
  async abort(): Promise<void> {
    if (this.state === 'closed') return;
    await this.fail();
  }

  private async fail(): Promise<void> {
    this.state = 'failed';
    this.columns = new Uint8Array(0);
    await this.spool.remove();
    await rm(this.temp, { force: true });
  }

  private checkOpen(call: string): void {
    if (this.state !== 'open') {
      throw new FeedError(
        'FAILED_PRECONDITION',
        `${call} after the writer was ${this.state}`,
        `NRRD writer: ${call} after the writer of ${this.path} was ${this.state}; create a new writer`,
      );
    }
  }

  /**
   * The header, then the voxels in NRRD order: column after column (c = i2 * v1 + i1), each column the v0
   * voxels of axis 0. A block of whole columns is filled from one read per spooled slab, then written; the
   * block and the read buffer together stay within the budget.
   */
  private async writeNrrd(): Promise<void> {
    const { threshold } = this.options;
    const encoding = this.options.encoding ?? 'gzip';
    const header = predictionNrrdHeader({
      sizes: this.shape,
      encoding,
      kind: threshold === undefined ? 'probability' : 'mask',
      ...(this.options.spacing === undefined ? {} : { spacings: this.options.spacing }),
      ...(this.options.seriesUid === undefined ? {} : { seriesUid: this.options.seriesUid }),
      ...(threshold === undefined ? {} : { threshold }),
    });
    const [v0, v1, v2] = this.shape;
    const maxRows = this.spool.maxRows;
    const budget = this.options.transposeBudgetBytes ?? DEFAULT_TRANSPOSE_BUDGET_BYTES;
    const columnsPerBlock = Math.max(1, Math.min(v1 * v2, Math.floor(budget / (v0 + maxRows))));
    const block = new Uint8Array(columnsPerBlock * v0);
    const readBuffer = new Uint8Array(columnsPerBlock * maxRows);
    this.peak = Math.max(this.peak, block.length + readBuffer.length);

    const file = createWriteStream(this.temp, { flags: 'wx' });
    const gzip = encoding === 'gzip' ? createGzip({ level: this.options.gzipLevel ?? 6 }) : null;
    const body: Writable = gzip ?? file;
    // Listens for errors from the start; awaited below (a failure also fails the next write). The header goes
    // to the file before gzip has produced anything, so it stays uncompressed in front of the body.
    const piped = gzip === null ? finished(file) : pipeline(gzip, file);
    piped.catch(() => undefined);
    try {
      await writeChunk(file, Buffer.from(header, 'latin1'));
      for (let first = 0; first < v1 * v2; first += columnsPerBlock) {
        const count = Math.min(columnsPerBlock, v1 * v2 - first);
        for (const slab of this.spool.slabs) {
          const run = await this.spool.read(slab, first, count, readBuffer);
          scatterRows(run, slab.rows, count, block, v0, slab.start);
        }
        await writeChunk(body, block.subarray(0, count * v0));
      }
      body.end();
    } catch (error) {
      body.destroy();
      await piped.catch(() => undefined);
      throw error;
    }
    await piped;
  }
}

/** Column c of `run` (its `rows` bytes) goes to rows [start, start + rows) of column c of `block`. */
function scatterRows(
  run: Uint8Array,
  rows: number,
  count: number,
  block: Uint8Array,
  v0: number,
  start: number,
): void {
  for (let c = 0; c < count; c++) {
    const from = c * rows;
    const to = c * v0 + start;
    for (let t = 0; t < rows; t++) block[to + t] = run[from + t]!;
  }
}

/** Resolves once `stream` has taken `chunk` (written it, or compressed it), so the caller may reuse it. */
function writeChunk(stream: Writable, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(chunk, (error) => (error ? reject(error) : resolve()));
  });
}

function invalid(details: string): FeedError {
  return new FeedError('INVALID_ARGUMENT', details, `NRRD writer: ${details}`);
}

function checkOptions(options: NrrdSlabWriterOptions): void {
  const problems: string[] = [];
  if (typeof options.path !== 'string' || options.path === '') {
    problems.push('path is empty; give the NRRD file to write, e.g. <uid>_pred.nrrd');
  }
  checkShape('volume shape', options.volumeShape, 'e.g. TileBatch.volume_shape [300, 512, 512]');
  const { threshold, encoding, gzipLevel, transposeBudgetBytes, spacing } = options;
  if (threshold !== undefined && !(Number.isFinite(threshold) && threshold > 0 && threshold <= 1)) {
    problems.push(
      `threshold is ${threshold}; give a probability 0 < t <= 1, e.g. 0.5, or none for probabilities`,
    );
  }
  if (encoding !== undefined && encoding !== 'gzip' && encoding !== 'raw') {
    problems.push(`encoding is ${JSON.stringify(encoding)}; use 'gzip' or 'raw'`);
  }
  if (gzipLevel !== undefined && !(Number.isInteger(gzipLevel) && gzipLevel >= 0 && gzipLevel <= 9)) {
    problems.push(`gzip level is ${gzipLevel}; use 0..9 (1 for speed, 6 for size)`);
  }
  if (
    transposeBudgetBytes !== undefined &&
    !(Number.isSafeInteger(transposeBudgetBytes) && transposeBudgetBytes >= 1)
  ) {
    problems.push(
      `transpose budget is ${transposeBudgetBytes} bytes; give a whole number of bytes, e.g. 16 MiB`,
    );
  }
  if (spacing !== undefined && spacing.length > 0) {
    if (spacing.length !== 3 || !spacing.every((s) => Number.isFinite(s) && s > 0)) {
      problems.push(
        `spacing is [${spacing.join(', ')}]; give 3 finite values > 0 in mm (TileBatch.spacing), or none`,
      );
    }
  }
  if (options.seriesUid !== undefined && /[\r\n\\]/.test(options.seriesUid)) {
    problems.push(
      `series uid ${JSON.stringify(options.seriesUid)} holds a line break or backslash; give it as one line`,
    );
  }
  if (problems.length > 0) throw invalid(problems.join('; '));
}
