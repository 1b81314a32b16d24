import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createFeedClient } from '@voxelfeed/client';
import { VoxelfeedError } from '@voxelfeed/common/voxelfeed-error.js';
import { selectBackend } from '../backend/select-backend.js';
import { readFeedSecurity } from '../config/read-feed-security.js';
import { feedFailure } from '../feed-failure.js';
import { checkTileSize } from './check-tile-size.js';
import { IDENTITY_DEFAULT_TILE, INFER_HELP, type InferConfig, parseInferConfig } from './infer-config.js';
import { barProgress, type InferProgress, lineProgress, NO_PROGRESS } from './infer-progress.js';
import { inferJson, inferTable } from './infer-report.js';
import { type InferTarget, inferTarget } from './infer-target.js';
import {
  type InferTileBatch,
  inferTiles,
  type SeriesOutput,
  type SeriesResult,
  type SeriesStart,
  type Shape3,
} from './infer-tiles.js';
import { openNrrdSeriesOutput } from './nrrd-series-output.js';
import { readInferenceCheckpoint } from './read-inference-checkpoint.js';
import { identityPredictor, type TilePredictor } from './tile-predictor.js';

/**
 * The composition root of `voxelfeed infer`: reads the config, predicts through a feed client
 * (`inferWithClient`) with progress on stderr, and prints a table per series and one JSON summary line on
 * stdout.
 */
export async function runInfer(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const config = parseInferConfig(argv, env);
  if (config === 'help') {
    process.stdout.write(`${INFER_HELP}\n`);
    return 0;
  }
  const log = (message: string) => process.stderr.write(`voxelfeed infer: ${message}\n`);
  const progress = !config.progress
    ? NO_PROGRESS
    : process.stderr.isTTY
      ? barProgress(process.stderr)
      : lineProgress(log, () => performance.now());
  const summary = await inferWithClient(config, { progress, log, now: () => performance.now() / 1000 });
  process.stdout.write(`${inferTable(summary)}\n${JSON.stringify(inferJson(config, summary))}\n`);
  return 0;
}

/**
 * `infer` against the configured server: reads the TLS and token files first (a bad one stops before
 * anything loads), streams the tiles with the feed client (reconnecting and resuming at the next tile) and
 * writes each series through a TileMerger into its NRRD file. A feed failure becomes one line naming the
 * server and the fix.
 */
export async function inferWithClient(
  config: InferConfig,
  deps: Pick<InferDeps, 'progress' | 'log' | 'now'>,
): Promise<InferSummary> {
  const security = await readFeedSecurity(config);
  const feed = createFeedClient({
    addresses: [config.server],
    reconnect: { maxAttempts: config.reconnectAttempts },
    ...security.options,
  });
  try {
    return await infer(config, {
      ...deps,
      streamTiles: (request) =>
        feed.streamTiles({
          dataset: request.dataset,
          ...(request.target.kind === 'series'
            ? { seriesUids: [...request.target.uids] }
            : { split: { holdoutFraction: request.target.fraction, part: 'holdout' } }),
          tileSize: request.tileSize,
          overlap: request.overlap,
          batchSize: request.batchSize,
          dtype: 'uint8',
          includeMask: false,
        }),
      openSeries: (start, file) => openNrrdSeriesOutput(start, file, config),
    });
  } catch (error) {
    const line = feedFailure(error, [config.server], config.reconnectAttempts, '--server (VOXELFEED_SERVER)');
    if (line === null) throw error;
    throw line;
  } finally {
    feed.close();
  }
}

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
