import {
  accumulateTile,
  checkPrediction,
  divideRows,
  type RowSums,
  tileExtent,
  uncovered,
} from './accumulate-tile.js';
import { FeedError } from './feed-error.js';
import { checkTileShape, importanceMap, TILE_WEIGHTINGS, type TileWeighting } from './importance-map.js';
import { checkShape, type Shape3 } from './shape3.js';

/**
 * Merged rows along axis 0: rows [start, start + rowCount) of the volume, `values` holding rowCount * v1 * v2
 * float32 in C order. `values` is the merger's buffer: read or copy it before the sink's promise resolves.
 */
export interface MergedSlab {
  readonly start: number;
  readonly rowCount: number;
  readonly values: Float32Array;
}

/** Receives each final slab once, in order; the merger waits for it before it reuses the buffer. */
export type SlabSink = (slab: MergedSlab) => Promise<void> | void;

export interface TileMergerOptions {
  /** The volume's shape (TileBatch.volume_shape), NRRD axis order. */
  readonly volumeShape: Shape3;
  /** The tile's shape (TileBatch.shape without B). */
  readonly tileShape: Shape3;
  /** Default `gaussian` (nnU-Net); `constant` for a plain average. */
  readonly weighting?: TileWeighting;
  readonly sink: SlabSink;
}

/**
 * Merges the tile predictions of one volume into their weighted average, sum(w * p) / sum(w) per voxel with w
 * the tile's importance map, without holding the volume: tiles come in the server's order (axis 0 slowest),
 * so once a tile with axis-0 origin z arrives no later tile touches a row below z. Those rows are divided,
 * handed to the sink and forgotten. The merger keeps the running sums of rows [z, z + t0) only, in a ring of
 * t0 rows (row r at r mod t0), plus one output slab of t0 rows: its memory depends on the tile and on the
 * volume's axes 1 and 2, never on the length of axis 0.
 *
 * `add` one tile at a time and await it (it awaits the sink when rows become final), then `finish()`.
 */
export class TileMerger {
  readonly volumeShape: Shape3;
  readonly tileShape: Shape3;
  readonly weighting: TileWeighting;
  private readonly sink: SlabSink;
  private readonly weights: Float32Array;
  private readonly plane: readonly [number, number];
  private readonly ringRows: number;
  private ring: RowSums | null;
  private out: Float32Array | null;
  private held: number;
  private peak: number;
  private done = 0;
  private latestRow = 0;
  private tiles = 0;
  private busy = false;
  private finished = false;

  constructor(options: TileMergerOptions) {
    checkShape('volume shape', options.volumeShape, 'e.g. TileBatch.volume_shape [300, 512, 512]');
    checkTileShape(options.tileShape);
    const weighting = options.weighting ?? 'gaussian';
    if (!TILE_WEIGHTINGS.includes(weighting)) {
      const details = `weighting is ${JSON.stringify(weighting)}; use 'gaussian' (nnU-Net) or 'constant' (plain average)`;
      throw new FeedError('INVALID_ARGUMENT', details, `tile merger: ${details}`);
    }
    if (typeof options.sink !== 'function') {
      const details = "sink is not a function; give an async sink(slab), e.g. an NrrdSlabWriter's write";
      throw new FeedError('INVALID_ARGUMENT', details, `tile merger: ${details}`);
    }
    this.volumeShape = [...options.volumeShape];
    this.tileShape = [...options.tileShape];
    this.weighting = weighting;
    this.sink = options.sink;
    this.weights = importanceMap(this.tileShape, weighting);
    const [v0, v1, v2] = this.volumeShape;
    this.plane = [v1, v2];
    this.ringRows = Math.min(this.tileShape[0], v0);
    const ringRows = this.ringRows;
    const ringVoxels = ringRows * v1 * v2;
    this.ring = {
      sums: new Float32Array(ringVoxels),
      weightSums: new Float32Array(ringVoxels),
      slot: (row) => row % ringRows,
    };
    this.out = new Float32Array(ringVoxels);
    this.held = 3 * ringVoxels * 4 + this.weights.byteLength;
    this.peak = this.held;
  }

  /**
   * The most bytes the merger's own arrays held at once so far (sums, weight sums, the output slab and the
   * importance map; not the caller's predictions nor what the sink keeps). Counted as they are allocated and
   * freed.
   */
  get peakBytes(): number {
    return this.peak;
  }

  /** Rows along axis 0 handed to the sink so far. */
  get rowsDone(): number {
    return this.done;
  }

  /** Adds the prediction (t0 * t1 * t2 float32, C order) of the tile at `origin`; final rows go to the sink. */
  async add(origin: readonly number[], prediction: Float32Array): Promise<void> {
    this.enter();
    try {
      const extent = tileExtent(origin, this.volumeShape, this.tileShape);
      checkPrediction(prediction, this.tileShape, origin);
      const z = origin[0]!;
      if (z < this.latestRow) {
        const details =
          `the tile at [${origin.join(', ')}] came after one at axis-0 origin ${this.latestRow}; the streaming ` +
          'merger needs tiles in the server order (axis 0 slowest, axis-0 origins never decreasing): keep ' +
          'that order, or use mergeTilesInMemory';
        throw new FeedError('FAILED_PRECONDITION', details, `tile merger: ${details}`);
      }
      await this.flush(z);
      this.latestRow = z;
      accumulateTile(this.ring!, this.plane, origin, extent, this.tileShape, prediction, this.weights);
      this.tiles++;
    } finally {
      this.busy = false;
    }
  }

  /**
   * Adds the B tiles of one message: `origins` as TileBatch.origins (3 per tile), `predictions` B tiles of
   * t0 * t1 * t2 float32 each, one after the other.
   */
  async addBatch(origins: readonly number[], predictions: Float32Array): Promise<void> {
    const voxels = this.tileShape[0] * this.tileShape[1] * this.tileShape[2];
    const count = origins.length / 3;
    if (!Number.isInteger(count) || predictions.length !== count * voxels) {
      const details =
        `a batch of ${origins.length} origin values and ${predictions.length} predicted values does not ` +
        `match tile shape [${this.tileShape.join(', ')}]; give 3 origin values and ${voxels} values per tile`;
      throw new FeedError('INVALID_ARGUMENT', details, `tile merger: ${details}`);
    }
    for (let b = 0; b < count; b++) {
      await this.add(origins.slice(3 * b, 3 * b + 3), predictions.subarray(b * voxels, (b + 1) * voxels));
    }
  }

  /** Hands the remaining rows to the sink and frees the buffers. Throws if a voxel got no tile. */
  async finish(): Promise<void> {
    this.enter();
    try {
      if (this.tiles === 0) {
        const details = 'no tile was added; add the tiles of the series before finish()';
        throw new FeedError('FAILED_PRECONDITION', details, `tile merger: ${details}`);
      }
      await this.flush(this.volumeShape[0]);
      this.finished = true;
      this.ring = null;
      this.out = null;
      this.held = 0;
    } finally {
      this.busy = false;
    }
  }

  private enter(): void {
    if (this.finished) {
      const details = 'the merger has finished; make a new TileMerger for another volume';
      throw new FeedError('FAILED_PRECONDITION', details, `tile merger: ${details}`);
    }
    if (this.busy) {
      const details = 'add() or finish() was called before the previous call resolved; await each call';
      throw new FeedError('FAILED_PRECONDITION', details, `tile merger: ${details}`);
    }
    this.busy = true;
  }

  /** Divides rows [done, upto), hands them to the sink in slabs of at most the ring's rows. */
  private async flush(upto: number): Promise<void> {
    if (upto <= this.done) return;
    // Every tile so far started at or below row `done`, so rows from done + t0 on got no tile at all.
    const end = Math.min(upto, this.done + this.ringRows);
    const count = end - this.done;
    const values = this.out!.subarray(0, count * this.plane[0] * this.plane[1]);
    divideRows(this.ring!, this.plane, this.done, count, values);
    if (end < upto) throw uncovered(end, 0, this.plane);
    const start = this.done;
    this.done = end;
    await this.sink({ start, rowCount: count, values });
  }
}
