import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { VoxelfeedError } from '@voxelfeed/common/voxelfeed-error.js';
import { selectBackend } from '../backend/select-backend.js';
import { checkTileSize } from './check-tile-size.js';
import { IDENTITY_DEFAULT_TILE, type InferConfig } from './infer-config.js';
import type { InferProgress } from './infer-progress.js';
import { type InferTarget, inferTarget } from './infer-target.js';
import {
  type InferTileBatch,
  inferTiles,
  type SeriesOutput,
  type SeriesResult,
  type SeriesStart,
  type Shape3,
} from './infer-tiles.js';
import { readInferenceCheckpoint } from './read-inference-checkpoint.js';
import { identityPredictor, type TilePredictor } from './tile-predictor.js';

/** The StreamTiles request inference makes. */
export interface InferTilesRequest {
  readonly dataset: string;
  readonly target: InferTarget;
  readonly tileSize: Shape3;
  readonly overlap: Shape3;
  readonly batchSize: number;
}

/** What `infer` is given besides its config: the tiles, the outputs, the progress and the clock. */
export interface InferDeps {
  streamTiles(request: InferTilesRequest): AsyncIterable<InferTileBatch>;
  openSeries(start: SeriesStart, file: string): Promise<SeriesOutput>;
  readonly progress: InferProgress;
  log(message: string): void;
  now(): number;
}

export interface InferSummary {
  readonly predictor: string;
  readonly target: InferTarget;
  readonly tileSize: Shape3;
  readonly series: readonly SeriesResult[];
  readonly tiles: number;
  readonly seconds: number;
  /** Most bytes any series' merge held at once. */
  readonly peakMergeBytes: number;
}

/**
 * Predicts the configured series: the checkpoint (or the identity model), the tile it takes, the series to
 * predict, the backend; then every tile streamed, predicted and merged into `<out>/<uid>_pred.nrrd`.
 */
export async function infer(config: InferConfig, deps: InferDeps): Promise<InferSummary> {
  const checkpoint =
    config.model.kind === 'checkpoint' ? await readInferenceCheckpoint(config.model.dir) : null;
  const target = inferTarget(config, checkpoint);
  const tileSize = config.tileSize ?? checkpoint?.cropSize ?? IDENTITY_DEFAULT_TILE;
  if (checkpoint !== null) {
    const shown =
      config.tileSize === null
        ? `the checkpoint's training crop ${tileSize.join(',')} (the default tile)`
        : `--tile ${tileSize.join(',')}`;
    checkTileSize(tileSize, checkpoint.model.depth, shown);
  }
  await makeOutDir(config.outDir);
  let predictor: TilePredictor;
  if (checkpoint === null) {
    predictor = identityPredictor();
  } else {
    // Loaded here, not at the top: the identity model (tests, benchmarks) runs without tfjs's kernels.
    const backend = await selectBackend(config.backend, deps.log);
    const { vnetPredictor } = await import('./vnet-predictor.js');
    predictor = vnetPredictor(checkpoint, backend.name);
  }
  deps.log(
    `predicting ${describeTarget(target)} with ${predictor.name}, tiles ${tileSize.join('x')}, overlap ${config.overlap.join(',')}, ${config.weighting} weighting`,
  );
  const started = deps.now();
  try {
    const series = await inferTiles(
      deps.streamTiles({
        dataset: config.dataset ?? checkpoint?.dataset ?? '',
        target,
        tileSize,
        overlap: config.overlap,
        batchSize: config.batchSize,
      }),
      predictor,
      (start) => deps.openSeries(start, path.join(config.outDir, predictionFileName(start.uid))),
      deps.progress,
      () => deps.now(),
    );
    if (series.length === 0) {
      throw new VoxelfeedError(
        'FAILED_PRECONDITION',
        `${describeTarget(target)}: no series to predict; raise the share or name the series with --series`,
      );
    }
    const tiles = series.reduce((sum, s) => sum + s.tiles, 0);
    return {
      predictor: predictor.name,
      target,
      tileSize,
      series,
      tiles,
      seconds: deps.now() - started,
      peakMergeBytes: Math.max(...series.map((s) => s.peakBytes)),
    };
  } finally {
    deps.progress.stop();
    predictor.dispose();
  }
}

/** `<uid>_pred.nrrd`; a uid that would name another folder (a `/`, `..`) is refused rather than followed. */
export function predictionFileName(uid: string): string {
  if (uid === '' || uid === '.' || uid === '..' || /[/\\\0]/.test(uid)) {
    throw new VoxelfeedError(
      'DATA_LOSS',
      `series uid ${JSON.stringify(uid)} cannot name a file; rename the series in the data set`,
    );
  }
  return `${uid}_pred.nrrd`;
}

function describeTarget(target: InferTarget): string {
  return target.kind === 'series'
    ? `${target.uids.length} named series`
    : `the series held out at ${target.fraction} (${target.source})`;
}

async function makeOutDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new VoxelfeedError(
      'FAILED_PRECONDITION',
      `--out ${dir}: cannot create the folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); choose a writable folder`,
      { cause: error },
    );
  }
}
