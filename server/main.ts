import { formatBytes } from '@voxelfeed/common/cli/parse-byte-size.js';
import { formatHostPort, listenFailure } from '@voxelfeed/common/listen-failure.js';
import { probeListen } from '@voxelfeed/common/probe-listen.js';
import { serveMetrics } from '@voxelfeed/common/serve-metrics.js';
import { BatchMemory } from './batches/batch-memory.js';
import { exposeGarbageCollector } from './batches/expose-garbage-collector.js';
import { PlanCache } from './batches/plan-cache.js';
import type { DatasetRegistry } from './batches/served-dataset.js';
import type { StreamObserver } from './batches/stream-observer.js';
import { VolumeCache } from './cache/volume-cache.js';
import { readServeSecurity } from './config/read-serve-security.js';
import { parseServeConfig, SERVE_HELP, type ServeConfig } from './config/serve-config.js';
import { serveEndpoints } from './config/serve-endpoints.js';
import { BoxMaskMonitor } from './dataset/box-check/box-mask-monitor.js';
import { buildCatalog } from './dataset/catalog/build-catalog.js';
import type { Catalog } from './dataset/catalog/catalog.js';
import { skippedShare, skippedShareProblem, skippedShareWarning } from './dataset/catalog/skipped-share.js';
import { isPermanentLoadFailure, loadCatalogVolume } from './dataset/loading/load-catalog-volume.js';
import { VoxelfeedError } from './errors.js';
import { createLogger, type Logger } from './log/logger.js';
import { createAuthInterceptor } from './service/auth-interceptor.js';
import { createGrpcServer, type VoxelfeedServer } from './service/create-grpc-server.js';
import { TrainerStatsStore } from './service/trainer-stats-store.js';
import { ensureDefaultDataset } from './synth/default-dataset.js';
import { NOOP_TELEMETRY } from './telemetry/noop-telemetry.js';
import { PrometheusTelemetry } from './telemetry/prometheus-telemetry.js';
import { withStreamObserver } from './telemetry/with-stream-observer.js';
import { CropWorkers } from './workers/crop-workers.js';

/** A rank that has not reported for this long is dropped from the server's view (and its metrics). */
const TRAINER_STATS_EXPIRE_MS = 60_000;

export interface RunningServer {
  readonly grpc: VoxelfeedServer;
  readonly catalog: Catalog;
  readonly registry: DatasetRegistry;
  readonly trainerStats: TrainerStatsStore;
  /** The bound /metrics port, null with --metrics-port off. */
  readonly metricsPort: number | null;
  stop(): Promise<void>;
}

/**
 * The composition root of `voxelfeed serve`: reads the config, indexes the data set, builds the cache,
 * the plan cache and the gRPC server, and owns shutdown (SIGTERM/SIGINT: health NOT_SERVING, open streams
 * get `--shutdown-grace-ms`, then the process exits).
 */
/** How long the crop worker threads may take to start (their code loads in well under a second). */
const WORKER_START_TIMEOUT_MS = 60_000;

export async function runServe(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parseServeConfig(argv, env);
  if (parsed === 'help') {
    process.stdout.write(`${SERVE_HELP}\n`);
    return 0;
  }
  const log = createLogger(parsed.logLevel);
  const running = await startServer(parsed, env, log);
  // Signal handlers first: a supervisor may send SIGTERM as soon as it reads "listening on", and a signal
  // without a handler would end the process without the graceful shutdown.
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (signal: string) => {
      log.info({ signal, graceMs: parsed.shutdownGraceMs }, 'shutting down');
      running.stop().then(resolve, resolve);
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
  // Beside the JSON log, where a person starting the server sees it (a share above the limit never gets here).
  const skipped = skippedShareWarning(running.catalog, parsed.maxSkippedShare, 'serve');
  if (skipped !== null) process.stderr.write(`voxelfeed serve: ${skipped}\n`);
  process.stdout.write(`listening on ${formatHostPort(parsed.host, running.grpc.port)}\n`);
  if (running.metricsPort !== null) {
    process.stdout.write(
      `metrics on http://${formatHostPort(parsed.metricsHost, running.metricsPort)}/metrics\n`,
    );
  }
  await stopped;
  return 0;
}

export interface ServerHooks {
  /** Sees every stream start, batch and end (metrics; tests). */
  readonly observer?: StreamObserver;
}

export async function startServer(
  config: ServeConfig,
  env: NodeJS.ProcessEnv,
  log: Logger,
  hooks: ServerHooks = {},
): Promise<RunningServer> {
  // First, so a port in use or a host not of this machine stops the server before it indexes or serves
  // anything; the real binds below come in an order that leaves nothing bound if one still fails.
  const endpoints = serveEndpoints(config);
  await probeListen(endpoints.metrics ? [endpoints.grpc, endpoints.metrics] : [endpoints.grpc]);
  // Before indexing, so a bad certificate or token file stops the server at once, not after the catalog.
  const security = await readServeSecurity(config, log);
  let source = config.data;
  if (source === null) {
    const started = performance.now();
    const dataset = await ensureDefaultDataset(env);
    source = dataset.dir;
    log.info(
      { dir: dataset.dir, generated: dataset.generated, ms: Math.round(performance.now() - started) },
      dataset.generated ? 'generated the default phantom data set' : 'using the default phantom data set',
    );
  }
  const indexStarted = performance.now();
  const catalog = await buildCatalog({
    source,
    strict: config.strict,
    // The embedded default is called "phantom" in requests, whatever its cache folder is named.
    ...(config.datasetName ? { name: config.datasetName } : config.data === null ? { name: 'phantom' } : {}),
  });
  log.info(
    {
      dataset: catalog.name,
      series: catalog.series.length,
      nodules: catalog.nodules,
      skipped: catalog.skipped.length,
      skippedShare: skippedShare(catalog),
      fingerprint: catalog.fingerprint,
      decodedBytes: catalog.decodedBytes,
      cacheBytes: config.cacheMaxBytes,
      ms: Math.round(performance.now() - indexStarted),
    },
    `indexed ${catalog.series.length} series (${formatBytes(catalog.decodedBytes)} decoded) with a ${formatBytes(config.cacheMaxBytes)} cache`,
  );
  for (const skipped of catalog.skipped.slice(0, 5)) {
    log.warn({ uid: skipped.uid, reason: skipped.reason }, 'skipped a series');
  }
  if (catalog.skipped.length > 5) {
    log.warn(
      { more: catalog.skipped.length - 5 },
      'more series skipped; run voxelfeed index for the full list',
    );
  }
  const tooManySkipped = skippedShareProblem(catalog, config.maxSkippedShare, 'serve');
  if (tooManySkipped !== null) throw new VoxelfeedError('FAILED_PRECONDITION', tooManySkipped);
  // Start-up reads headers only: a series' mask is first seen when its volume is decoded, and checked then.
  const boxMasks = new BoxMaskMonitor(catalog.series, ({ series, mismatch, reason }) =>
    log.warn(
      { uid: series.uid, boxes: mismatch.boxes, missing: mismatch.missing.length, reason },
      `box centres miss the mask of series ${series.uid}; it is served as it is: ${reason}`,
    ),
  );
  const trainerStats = new TrainerStatsStore(TRAINER_STATS_EXPIRE_MS);
  const replaceBadSeries = config.replaceBadSeries;
  // Every stream's batch buffers, within --batch-memory. Its collections run only after 5 s without traffic
  // or when a batch waits on dropped buffers, at most once a second.
  const batchMemory = new BatchMemory({
    budgetBytes: config.limits.batchMemoryBytes,
    collectGarbage: exposeGarbageCollector(),
  });
  // --metrics-port off: no registry, and reports that go nowhere (the benchmark's baseline).
  const prometheus = config.metricsPort === null ? null : new PrometheusTelemetry();
  const telemetry = withStreamObserver(prometheus ?? NOOP_TELEMETRY, hooks.observer);
  // --workers: threads that cut crops and decode volumes in shared memory; the main thread plans and sends.
  const workers =
    config.workers === 0
      ? undefined
      : new CropWorkers({
          threads: config.workers,
          onWorkerError: (error) =>
            log.error(
              { reason: error instanceof Error ? error.message : String(error) },
              'a crop worker thread failed; another takes its place',
            ),
        });
  // A pool whose threads cannot start would leave every stream waiting: stop at start instead, saying why.
  if (workers !== undefined) {
    try {
      await workers.started(WORKER_START_TIMEOUT_MS);
    } catch (error) {
      await workers.close();
      throw error;
    }
  }
  const readSeries = workers && ((image: string, mask: string) => workers.loadSeries(image, mask));
  const cache = new VolumeCache<number>({
    maxBytes: config.cacheMaxBytes,
    maxConcurrentLoads: config.maxConcurrentLoads,
    load: async (index) => {
      const volume = await loadCatalogVolume(
        catalog.series[index]!,
        (stats) => telemetry.volumeLoaded(stats),
        readSeries,
      );
      boxMasks.afterDecode(index, volume);
      return volume;
    },
    // A series whose files turn out missing or corrupt is marked bad: later requests fail at once (or, with
    // --replace-bad-series, get other series' items) instead of re-reading it for every batch.
    isPermanentFailure: isPermanentLoadFailure,
    events: {
      onOutcome: (outcome) => telemetry.cache.onOutcome(outcome),
      onEvict: () => telemetry.cache.onEvict(),
      onOversize: () => telemetry.cache.onOversize(),
      onFailureKept: (index, error) =>
        log.warn(
          {
            uid: catalog.series[index]?.uid,
            reason: error instanceof Error ? error.message : String(error),
            badSeries: cache.failedKeys.size,
          },
          replaceBadSeries
            ? 'series marked bad: its items are replaced by items of good series (--replace-bad-series); batches now depend on which series are bad'
            : 'series marked bad: streams that need it end with DATA_LOSS until the file is restored and the server restarted',
        ),
    },
  });
  const plans = new PlanCache(catalog.series, {
    maxBytes: config.planCacheMaxBytes,
  });
  const registry: DatasetRegistry = {
    defaultName: catalog.name,
    datasets: new Map([[catalog.name, { catalog, cache, plans, replaceBadSeries, workers }]]),
  };
  telemetry.watch({ cache, boxMasks, batchMemory, trainers: trainerStats });
  // /metrics before gRPC: if gRPC cannot bind, closing /metrics leaves nothing half-started, whereas a
  // gRPC server already bound would have answered health checks as SERVING.
  const metricsHttp =
    prometheus === null || endpoints.metrics === null
      ? null
      : await serveMetrics(prometheus.registry, endpoints.metrics);
  const grpc = await createGrpcServer({
    bindFailure: (error) => listenFailure(error, endpoints.grpc),
    registry,
    trainerStats,
    limits: config.limits,
    batchMemory,
    log,
    host: config.host,
    port: config.port,
    telemetry,
    ...(security.credentials ? { credentials: security.credentials } : {}),
    interceptors: security.tokens ? [createAuthInterceptor({ tokens: security.tokens, log })] : [],
  }).catch(async (error: unknown) => {
    await metricsHttp?.close();
    await workers?.close();
    throw error;
  });
  return {
    grpc,
    catalog,
    registry,
    trainerStats,
    metricsPort: metricsHttp?.port ?? null,
    stop: async () => {
      await grpc.shutdown(config.shutdownGraceMs);
      batchMemory.dispose();
      await workers?.close();
      await metricsHttp?.close();
    },
  };
}
