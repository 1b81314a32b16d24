import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type TrainerStats, VoxelFeedService } from '../../gen/voxelfeed/v1/voxelfeed.js';
import type { BatchMemoryStats } from '../batches/batch-memory.js';
import type { BatchSent } from '../batches/stream-observer.js';
import type { CacheOutcome } from '../cache/volume-cache.js';
import type { TrainerStatsStore } from '../service/trainer-stats-store.js';

/** 50 us to 10 s: a warm crop takes tens of microseconds, a cold gzip volume hundreds of milliseconds. */
export const LOADER_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export type LoaderStage = 'read' | 'decode' | 'crop' | 'encode' | 'batch';

/**
 * The status codes whose series exist at 0 from the first scrape. RESOURCE_EXHAUSTED: a stream or batch limit
 * was reached. UNAUTHENTICATED: a call without a valid token; the auth interceptor refuses it before any
 * handler, so it reaches `voxelfeed_requests_total` only, never the stream ends.
 */
const STREAM_END_CODES = ['OK', 'CANCELLED', 'DATA_LOSS', 'INTERNAL', 'RESOURCE_EXHAUSTED'] as const;
const REQUEST_CODES = [...STREAM_END_CODES, 'UNAUTHENTICATED'] as const;
/** The method label as grpc-js paths end: GetDatasetInfo, StreamBatches, GetSample, ReportTrainerStats. */
const METHODS = Object.values(VoxelFeedService).map((method) =>
  method.path.slice(method.path.lastIndexOf('/') + 1),
);

/**
 * The server's Prometheus series in its own registry: loader latency by stage, cache behaviour, stream
 * traffic, process defaults, and the latest stats each trainer rank reported (collected at scrape time).
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly stage: Histogram<'stage'>;
  private readonly cacheRequests: Counter<'outcome'>;
  private readonly cacheEvictions: Counter;
  private readonly cacheOversize: Counter;
  private readonly batchesSent: Counter;
  private readonly bytesSent: Counter;
  private readonly samplesSent: Counter;
  private readonly openStreams: Gauge;
  private readonly streamEnds: Counter<'code'>;
  private readonly backpressure: Histogram;
  private readonly requests: Counter<'method' | 'code'>;

  constructor(
    cache: {
      bytesHeld(): number;
      capacityBytes: number;
      /** Loads reading and decoding now (at most --max-loads). */
      loadsRunning(): number;
      /** Loads waiting for a --max-loads slot. */
      loadsQueued(): number;
      /** Series whose volumes failed for good and are no longer read (absent: none are tracked). */
      badSeries?(): number;
    },
    trainers: TrainerStatsStore,
    /** Optional sources, each adding its series; absent ones leave theirs at 0 or unexported. */
    sources: {
      /** What the box check found so far (dataset/box-mask-monitor.ts); absent: both gauges stay at 0. */
      readonly boxMasks?: { checkedSeries(): number; mismatchedSeries(): number };
      /** The streams' batch buffers (absent: no such series). */
      readonly batchMemory?: { stats(): BatchMemoryStats };
    } = {},
  ) {
    const registers = [this.registry];
    // prom-client's names already say process_ or nodejs_: voxelfeed_process_cpu_seconds_total, voxelfeed_nodejs_...
    collectDefaultMetrics({ register: this.registry, prefix: 'voxelfeed_' });
    // prom-client exposes these gauges with a `_total` suffix, which Prometheus reserves for counters
    // (`promtool check metrics` flags them); the handle and request counts are of little use here.
    for (const gauge of [
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_active_resources_total',
    ]) {
      this.registry.removeSingleMetric(`voxelfeed_${gauge}`);
    }
    this.stage = new Histogram({
      name: 'voxelfeed_loader_stage_seconds',
      help: 'Time per loader stage: read (file bytes), decode (inflate, convert, transpose), crop, encode, batch (a whole batch ready).',
      labelNames: ['stage'],
      buckets: LOADER_BUCKETS,
      registers,
    });
    this.cacheRequests = new Counter({
      name: 'voxelfeed_cache_requests_total',
      help: 'Volume requests to the cache by outcome: hit, miss (a load started), coalesced (joined a load in flight).',
      labelNames: ['outcome'],
      registers,
    });
    this.cacheEvictions = new Counter({
      name: 'voxelfeed_cache_evictions_total',
      help: 'Volumes evicted to stay within the byte bound.',
      registers,
    });
    this.cacheOversize = new Counter({
      name: 'voxelfeed_cache_oversize_total',
      help: 'Volumes larger than the whole cache, served without being kept.',
      registers,
    });
    new Gauge({
      name: 'voxelfeed_cache_bytes',
      help: 'Bytes of decoded volumes held in the cache.',
      registers,
      collect() {
        this.set(cache.bytesHeld());
      },
    });
    new Gauge({
      name: 'voxelfeed_cache_capacity_bytes',
      help: 'The cache bound (--cache-bytes).',
      registers,
      collect() {
        this.set(cache.capacityBytes);
      },
    });
    // Two gauges, not one: a running load holds a volume's memory beside the cache, a queued one holds nothing
    // yet but says the disk or the decoder is the bottleneck (misses wait for a slot).
    new Gauge({
      name: 'voxelfeed_cache_loads_running',
      help: 'Volume loads (read + decode) in progress now; at most --max-loads.',
      registers,
      collect() {
        this.set(cache.loadsRunning());
      },
    });
    new Gauge({
      name: 'voxelfeed_cache_loads_queued',
      help: 'Volume loads waiting for one of the --max-loads slots (cache misses not read yet).',
      registers,
      collect() {
        this.set(cache.loadsQueued());
      },
    });
    new Gauge({
      name: 'voxelfeed_bad_series',
      help: 'Series marked bad: a volume file was missing, truncated or corrupt when loaded; not read again until restart.',
      registers,
      collect() {
        this.set(cache.badSeries?.() ?? 0);
      },
    });
    new Gauge({
      name: 'voxelfeed_box_mask_checked_series',
      help: "Series whose box centres were checked against their mask (at the series' first decode).",
      registers,
      collect() {
        this.set(sources.boxMasks?.checkedSeries() ?? 0);
      },
    });
    new Gauge({
      name: 'voxelfeed_box_mask_mismatch_series',
      help: 'Series whose box centres miss their mask (e.g. boxes saved as (z, x, y) or in millimetres); still served.',
      registers,
      collect() {
        this.set(sources.boxMasks?.mismatchedSeries() ?? 0);
      },
    });
    this.batchesSent = new Counter({
      name: 'voxelfeed_batches_sent_total',
      help: 'Batches handed to gRPC.',
      registers,
    });
    this.bytesSent = new Counter({
      name: 'voxelfeed_sent_bytes_total',
      help: 'Encoded batch bytes handed to gRPC.',
      registers,
    });
    this.samplesSent = new Counter({
      name: 'voxelfeed_samples_sent_total',
      help: 'Crops handed to gRPC.',
      registers,
    });
    this.openStreams = new Gauge({
      name: 'voxelfeed_open_streams',
      help: 'StreamBatches calls in progress.',
      registers,
    });
    this.streamEnds = new Counter({
      name: 'voxelfeed_stream_ends_total',
      help: 'StreamBatches calls ended, by gRPC status code name.',
      labelNames: ['code'],
      registers,
    });
    this.backpressure = new Histogram({
      name: 'voxelfeed_stream_backpressure_seconds',
      help: 'Time a ready batch waited for its client: the earlier batches of its stream were not yet flushed.',
      buckets: LOADER_BUCKETS,
      registers,
    });
    this.requests = new Counter({
      name: 'voxelfeed_requests_total',
      help: 'gRPC calls of the VoxelFeed service handled, by method and status code name.',
      labelNames: ['method', 'code'],
      registers,
    });
    registerTrainerSeries(this.registry, trainers);
    if (sources.batchMemory) registerBatchMemorySeries(this.registry, sources.batchMemory);
    // Labelled series exist from the first scrape, so rate() and increase() see their first event too.
    for (const outcome of ['hit', 'miss', 'coalesced'] as const) this.cacheRequests.inc({ outcome }, 0);
    for (const code of STREAM_END_CODES) this.streamEnds.inc({ code }, 0);
    for (const method of METHODS) {
      for (const code of REQUEST_CODES) this.requests.inc({ method, code }, 0);
    }
    for (const stage of ['read', 'decode', 'crop', 'encode', 'batch'] as const) this.stage.zero({ stage });
  }

  observeStage(stage: LoaderStage, seconds: number): void {
    this.stage.observe({ stage }, seconds);
  }

  cacheOutcome(outcome: CacheOutcome): void {
    this.cacheRequests.inc({ outcome });
  }

  cacheEvicted(): void {
    this.cacheEvictions.inc();
  }

  cacheOversized(): void {
    this.cacheOversize.inc();
  }

  streamStarted(): void {
    this.openStreams.inc();
  }

  streamEnded(code: string): void {
    this.openStreams.dec();
    this.streamEnds.inc({ code });
    this.requests.inc({ method: 'StreamBatches', code });
  }

  callEnded(method: string, code: string): void {
    this.requests.inc({ method, code });
  }

  batchSent(sent: BatchSent): void {
    this.batchesSent.inc();
    this.bytesSent.inc(sent.bytes);
    this.samplesSent.inc(sent.samples);
    this.stage.observe({ stage: 'crop' }, sent.timings.crop);
    this.stage.observe({ stage: 'encode' }, sent.timings.encode);
    this.stage.observe({ stage: 'batch' }, sent.batchSeconds);
    this.backpressure.observe(sent.backpressureSeconds);
  }
}

/** Per trainer rank, from ReportTrainerStats: the counters are the rank's own running totals. */
function registerTrainerSeries(registry: Registry, trainers: TrainerStatsStore): void {
  const labelNames = ['job', 'rank'] as const;
  const counters: ReadonlyArray<readonly [string, string, (stats: TrainerStats) => number]> = [
    [
      'voxelfeed_trainer_gpu_idle_seconds_total',
      "Seconds the rank's device waited for input (reported by the rank).",
      (stats) => stats.gpuIdleSeconds,
    ],
    [
      'voxelfeed_trainer_busy_seconds_total',
      "Seconds the rank's device spent on training steps (reported).",
      (stats) => stats.stepSeconds,
    ],
    [
      'voxelfeed_trainer_data_wait_seconds_total',
      "Seconds the rank's loop waited for batches (reported).",
      (stats) => stats.dataWaitSeconds,
    ],
    [
      'voxelfeed_trainer_samples_total',
      'Samples the rank trained on (reported).',
      (stats) => Number(stats.samples),
    ],
  ];
  for (const [name, help, value] of counters) {
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const report of trainers.current()) this.inc(labelsOf(report.stats), value(report.stats));
      },
    });
  }
  new Gauge({
    name: 'voxelfeed_trainer_gpu_idle_ratio',
    help: "Idle share of the rank's device time since it started: idle / (idle + busy) (reported).",
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const { stats } of trainers.current()) {
        const total = stats.gpuIdleSeconds + stats.stepSeconds;
        this.set(labelsOf(stats), total === 0 ? 0 : stats.gpuIdleSeconds / total);
      }
    },
  });
}

function labelsOf(stats: TrainerStats): { job: string; rank: string } {
  return { job: stats.job, rank: String(stats.rank) };
}

/** The server's batch memory (batch-memory.ts), read at scrape time. */
function registerBatchMemorySeries(registry: Registry, memory: { stats(): BatchMemoryStats }): void {
  const registers = [registry];
  new Gauge({
    name: 'voxelfeed_batch_memory_bytes',
    help: 'Bytes of encoded batch buffers by state: in_use (being prepared, waiting, or with gRPC), free (kept for reuse), collecting (dropped, until V8 frees them).',
    labelNames: ['state'],
    registers,
    collect() {
      const stats = memory.stats();
      this.set({ state: 'in_use' }, stats.inUseBytes);
      this.set({ state: 'free' }, stats.freeBytes);
      this.set({ state: 'collecting' }, stats.heldBytes - stats.inUseBytes - stats.freeBytes);
    },
  });
  new Gauge({
    name: 'voxelfeed_batch_memory_capacity_bytes',
    help: 'The bound on encoded batch buffers over all streams (--batch-memory).',
    registers,
    collect() {
      this.set(memory.stats().budgetBytes);
    },
  });
  new Gauge({
    name: 'voxelfeed_batches_waiting_for_memory',
    help: 'Batches waiting for batch memory before they can be prepared.',
    registers,
    collect() {
      this.set(memory.stats().waiting);
    },
  });
  new Counter({
    name: 'voxelfeed_batch_memory_collections_total',
    help: 'Garbage collections the server ran to free dropped batch buffers (after 5 s without traffic, or to make room).',
    registers,
    collect() {
      this.reset();
      this.inc(memory.stats().collections);
    },
  });
}
