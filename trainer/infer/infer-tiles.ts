import { VoxelfeedError } from '@voxelfeed/common/voxelfeed-error.js';
import type { TilePredictor, TileTensor } from './tile-predictor.js';

export type Shape3 = readonly [number, number, number];

/** One message of StreamTiles as inference reads it: consecutive tiles of one series with their origins. */
export interface InferTileBatch extends TileTensor {
  readonly seriesUid: string;
  readonly seriesIndex: number;
  readonly seriesCount: number;
  readonly volumeShape: Shape3;
  readonly firstTile: number;
  readonly tilesInSeries: number;
  /** Origin of tile b: image[b][i][j][k] is voxel (o0 + i, o1 + j, o2 + k). */
  readonly origins: readonly Shape3[];
  /** mm per axis from the image header; empty when unknown. */
  readonly spacing: readonly number[];
}

/** What a series' output is opened with: enough to size the merge and to write the file's header. */
export interface SeriesStart {
  readonly uid: string;
  readonly index: number;
  readonly count: number;
  readonly volumeShape: Shape3;
  readonly tileShape: Shape3;
  readonly tilesInSeries: number;
  readonly spacing: readonly number[];
}

/** One series' merge and file: tile predictions in stream order, then finish (or abort on failure). */
export interface SeriesOutput {
  add(origin: Shape3, prediction: Float32Array): Promise<void>;
  /** Writes what is left and closes the file. */
  finish(): Promise<{ readonly path: string; readonly peakBytes: number; readonly writerPeakBytes: number }>;
  /** Removes anything half written. */
  abort(): Promise<void>;
}

export interface SeriesResult {
  readonly uid: string;
  readonly volumeShape: Shape3;
  readonly tiles: number;
  readonly seconds: number;
  readonly path: string;
  /** Most bytes the merge held at once for this series: its running sums, not the file writer's buffers. */
  readonly peakBytes: number;
  /** Most bytes the file writer held at once (a slab as uint8, then its transpose budget). */
  readonly writerPeakBytes: number;
}

/** Progress as it happens: the CLI draws bars or prints lines; tests record. */
export interface InferListener {
  seriesStarted(series: SeriesStart): void;
  tilesDone(count: number): void;
  seriesFinished(result: SeriesResult): void;
}

/**
 * Predicts every tile of the stream and merges each series into its output, series after series: the merge
 * sees each tile once, in stream order (axis 0 slowest), which is what lets it write finished slabs and free
 * them. A series is finished as soon as its last tile is merged. A stream that skips or repeats a tile, or
 * ends inside a series, cannot give a whole prediction: DATA_LOSS naming the series and tiles, and the
 * half-written output is removed.
 */
export async function inferTiles(
  batches: AsyncIterable<InferTileBatch>,
  predictor: TilePredictor,
  openSeries: (series: SeriesStart) => Promise<SeriesOutput>,
  listener: InferListener,
  now: () => number,
): Promise<SeriesResult[]> {
  const results: SeriesResult[] = [];
  let open: { start: SeriesStart; output: SeriesOutput; tiles: number; startedAt: number } | null = null;
  try {
    for await (const batch of batches) {
      const [count, t0, t1, t2] = batch.shape;
      if (open !== null && open.start.uid !== batch.seriesUid) {
        throw dataLoss(
          `series ${open.start.uid} ended after ${open.tiles} of its ${open.start.tilesInSeries} tiles, then series ${batch.seriesUid} began`,
        );
      }
      if (open === null) {
        if (batch.firstTile !== 0 || results.some((done) => done.uid === batch.seriesUid)) {
          throw dataLoss(
            `series ${batch.seriesUid} ${results.some((done) => done.uid === batch.seriesUid) ? 'came again' : `began at tile ${batch.firstTile}`}, expected a new series at tile 0`,
          );
        }
        const start: SeriesStart = {
          uid: batch.seriesUid,
          index: batch.seriesIndex,
          count: batch.seriesCount,
          volumeShape: batch.volumeShape,
          tileShape: [t0, t1, t2],
          tilesInSeries: batch.tilesInSeries,
          spacing: batch.spacing,
        };
        open = { start, output: await openSeries(start), tiles: 0, startedAt: now() };
        listener.seriesStarted(start);
      }
      if (batch.firstTile !== open.tiles || batch.origins.length !== count) {
        throw dataLoss(
          `series ${batch.seriesUid}: a message of ${count} tiles (${batch.origins.length} origins) starts at tile ${batch.firstTile}, expected tile ${open.tiles}`,
        );
      }
      const predictions = await predictor.predict(batch);
      const voxels = t0 * t1 * t2;
      if (predictions.length !== count * voxels) {
        throw new VoxelfeedError(
          'INTERNAL',
          `${predictor.name} returned ${predictions.length} values for ${count} tiles of ${t0}x${t1}x${t2}`,
        );
      }
      for (let b = 0; b < count; b++) {
        await open.output.add(batch.origins[b]!, predictions.subarray(b * voxels, (b + 1) * voxels));
      }
      open.tiles += count;
      listener.tilesDone(count);
      if (open.tiles === open.start.tilesInSeries) {
        const { path, peakBytes, writerPeakBytes } = await open.output.finish();
        const result: SeriesResult = {
          uid: open.start.uid,
          volumeShape: open.start.volumeShape,
          tiles: open.tiles,
          seconds: now() - open.startedAt,
          path,
          peakBytes,
          writerPeakBytes,
        };
        open = null;
        results.push(result);
        listener.seriesFinished(result);
      }
    }
    if (open !== null) {
      throw dataLoss(
        `the stream ended after ${open.tiles} of the ${open.start.tilesInSeries} tiles of series ${open.start.uid}`,
      );
    }
    return results;
  } catch (error) {
    await open?.output.abort();
    throw error;
  }
}

function dataLoss(details: string): VoxelfeedError {
  return new VoxelfeedError('DATA_LOSS', `${details}; run voxelfeed infer again`);
}
