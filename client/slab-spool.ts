import { type FileHandle, open, rm } from 'node:fs/promises';

/** A slab's place in the spool: volume rows [start, start + rows) along axis 0, stored from byte `offset`. */
export interface SpooledSlab {
  readonly start: number;
  readonly rows: number;
  readonly offset: number;
}

/**
 * A temporary file of finished uint8 slabs, kept until the NRRD file is written. Axis 0, the slowest axis in
 * memory, is the fastest in the NRRD file, so a slab of rows is not contiguous in the file: the voxels of one
 * NRRD "column" (fixed i1, i2; every i0) come from every slab. Each slab is therefore stored column by
 * column: column c = i2 * v1 + i1 (the NRRD file's order of columns) holds the slab's `rows` values of that
 * column. Any range of columns of a slab is then one contiguous read, and writing the NRRD file reads every
 * byte once, one read per slab per block of columns.
 */
export class SlabSpool {
  readonly file: string;
  private readonly handle: FileHandle;
  private readonly stored: SpooledSlab[] = [];
  private size = 0;

  private constructor(file: string, handle: FileHandle) {
    this.file = file;
    this.handle = handle;
  }

  /** Creates `file` (it must not exist). */
  static async create(file: string): Promise<SlabSpool> {
    return new SlabSpool(file, await open(file, 'wx+'));
  }

  get slabs(): readonly SpooledSlab[] {
    return this.stored;
  }

  /** The most rows any slab holds. */
  get maxRows(): number {
    return this.stored.reduce((most, slab) => Math.max(most, slab.rows), 0);
  }

  /** Appends a slab already in column order (`columnsOfSlab`). */
  async append(start: number, rows: number, columns: Uint8Array): Promise<void> {
    let written = 0;
    while (written < columns.length) {
      const { bytesWritten } = await this.handle.write(
        columns,
        written,
        columns.length - written,
        this.size + written,
      );
      written += bytesWritten;
    }
    this.stored.push({ start, rows, offset: this.size });
    this.size += columns.length;
  }

  /** Columns [first, first + count) of `slab` into `into` (count * slab.rows bytes); returns that view. */
  async read(slab: SpooledSlab, first: number, count: number, into: Uint8Array): Promise<Uint8Array> {
    const length = count * slab.rows;
    const view = into.subarray(0, length);
    let read = 0;
    while (read < length) {
      const position = slab.offset + first * slab.rows + read;
      const { bytesRead } = await this.handle.read(view, read, length - read, position);
      if (bytesRead === 0)
        throw new Error(`the spool ${this.file} ended at byte ${position}; it was truncated`);
      read += bytesRead;
    }
    return view;
  }

  /** Closes and deletes the file; safe to call twice. */
  async remove(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await rm(this.file, { force: true });
  }
}

/**
 * A slab of merged float32 rows (rows * v1 * v2, C order) as uint8 in the spool's column order: probabilities
 * as round(255 p) clamped to 0..255 (NaN as 0), or with a threshold 1 where p >= threshold, else 0.
 */
export function columnsOfSlab(
  values: Float32Array,
  rows: number,
  plane: readonly [number, number],
  threshold: number | undefined,
  into: Uint8Array,
): Uint8Array {
  const [v1, v2] = plane;
  const out = into.subarray(0, rows * v1 * v2);
  // Column c = i2 * v1 + i1 holds its rows at c * rows + t: consecutive i2 are v1 * rows bytes apart.
  const stride = v1 * rows;
  for (let t = 0; t < rows; t++) {
    for (let i1 = 0; i1 < v1; i1++) {
      const source = (t * v1 + i1) * v2;
      let target = i1 * rows + t;
      for (let i2 = 0; i2 < v2; i2++, target += stride) {
        const p = values[source + i2]!;
        out[target] = threshold === undefined ? probabilityByte(p) : p >= threshold ? 1 : 0;
      }
    }
  }
  return out;
}

/** round(255 p) clamped to 0..255, halves up; NaN (a model's failure) as 0. */
export function probabilityByte(p: number): number {
  const scaled = 255 * p;
  if (scaled >= 255) return 255;
  return scaled > 0 ? Math.round(scaled) : 0;
}
