import { VoxelFeedService } from '@voxelfeed/proto';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { BatchSent, StreamObserver } from '../batches/stream-observer.js';
import { registerBatchMemorySeries } from './batch-memory-series.js';
import { grpcMethodLabels } from './grpc-method-labels.js';
import { GrpcServerSeries } from './grpc-server-series.js';
import type { CacheTelemetry, Telemetry, VolumeLoadTimes, WatchedState } from './telemetry.js';
import { registerTrainerSeries } from './trainer-series.js';

/** 50 us to 10 s: a warm crop takes tens of microseconds, a cold gzip volume hundreds of milliseconds. */
export const LOADER_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/**
 * The server's Prometheus series in its own registry: loader latency by stage, cache behaviour, stream
 * traffic, the standard gRPC server series of every call, process defaults, and the latest stats each
 * trainer rank reported (collected at scrape time).
 */
export class PrometheusTelemetry implements Telemetry {
  readonly registry = new Registry();
  readonly streams: StreamObserver;
  readonly calls: GrpcServerSeries;
  readonly cache: CacheTelemetry;
  private readonly stage: Histogram<'stage'>;
  private state: WatchedState | null = null;

  constructor() {
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
    const stage = new Histogram({
      name: 'voxelfeed_loader_stage_seconds',
      help: 'Time per loader stage: read (file bytes), decode (inflate, convert, transpose), crop, encode, batch (a whole batch ready).',
      labelNames: ['stage'],
      buckets: LOADER_BUCKETS,
      registers,
    });
    this.stage = stage;
    const cacheRequests = new Counter({
      name: 'voxelfeed_cache_requests_total',
      help: 'Volume requests to the cache by outcome: hit, miss (a load started), coalesced (joined a load in flight).',
      labelNames: ['outcome'],
      registers,
    });
    const cacheEvictions = new Counter({
      name: 'voxelfeed_cache_evictions_total',
      help: 'Volumes evicted to stay within the byte bound.',
      registers,
    });
    const cacheOversize = new Counter({
      name: 'voxelfeed_cache_oversize_total',
      help: 'Volumes larger than the whole cache, served without being kept.',
      registers,
    });
    this.cache = {
      onOutcome: (outcome) => cacheRequests.inc({ outcome }),
      onEvict: () => cacheEvictions.inc(),
      onOversize: () => cacheOversize.inc(),
    };
    this.registerStateGauges();
    const batchesSent = new Counter({
      name: 'voxelfeed_batches_sent_total',
      help: 'Batches handed to gRPC.',
      registers,
    });
    const bytesSent = new Counter({
      name: 'voxelfeed_sent_bytes_total',
      help: 'Encoded batch bytes handed to gRPC.',
      registers,
    });
    const samplesSent = new Counter({
      name: 'voxelfeed_samples_sent_total',
      help: 'Crops handed to gRPC.',
      registers,
    });
    const openStreams = new Gauge({
      name: 'voxelfeed_open_streams',
      help: 'StreamBatches and StreamTiles calls in progress.',
      registers,
    });
    const backpressure = new Histogram({
      name: 'voxelfeed_stream_backpressure_seconds',
      help: 'Time a ready batch waited for its client: the earlier batches of its stream were not yet flushed.',
      buckets: LOADER_BUCKETS,
      registers,
    });
    this.streams = {
      onStreamStart: () => openStreams.inc(),
      onStreamEnd: () => openStreams.dec(),
      onBatch: (sent: BatchSent) => {
        batchesSent.inc();
        bytesSent.inc(sent.bytes);
        samplesSent.inc(sent.samples);
        stage.observe({ stage: 'crop' }, sent.timings.crop);
        stage.observe({ stage: 'encode' }, sent.timings.encode);
        stage.observe({ stage: 'batch' }, sent.batchSeconds);
        backpressure.observe(sent.backpressureSeconds);
      },
    };
    this.calls = new GrpcServerSeries(this.registry);
    registerTrainerSeries(this.registry, () => this.state?.trainers ?? null);
    registerBatchMemorySeries(this.registry, () => this.state?.batchMemory ?? null);
    // Labelled series exist from the first scrape, so rate() and increase() see their first event too.
    for (const outcome of ['hit', 'miss', 'coalesced'] as const) cacheRequests.inc({ outcome }, 0);
    for (const method of Object.values(VoxelFeedService)) this.calls.declare(grpcMethodLabels(method));
    for (const name of ['read', 'decode', 'crop', 'encode', 'batch'] as const) stage.zero({ stage: name });
  }

  volumeLoaded(stats: VolumeLoadTimes): void {
    this.stage.observe({ stage: 'read' }, stats.readMs / 1000);
    this.stage.observe({ stage: 'decode' }, stats.decodeMs / 1000);
  }

  watch(state: WatchedState): void {
    if (this.state !== null)
      throw new Error('PrometheusTelemetry.watch: the server state is already watched');
    this.state = state;
  }

  /** The gauges of the cache and the box check, read from the watched state (0 before `watch`). */
  private registerStateGauges(): void {
    const registers = [this.registry];
    const watched = () => this.state;
    const gauge = (name: string, help: string, read: (state: WatchedState) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const state = watched();
          this.set(state === null ? 0 : read(state));
        },
      });
    gauge('voxelfeed_cache_bytes', 'Bytes of decoded volumes held in the cache.', (s) => s.cache.bytesHeld);
    gauge('voxelfeed_cache_capacity_bytes', 'The cache bound (--cache-bytes).', (s) => s.cache.maxBytes);
    // Two gauges, not one: a running load holds a volume's memory beside the cache, a queued one holds nothing
    // yet but says the disk or the decoder is the bottleneck (misses wait for a slot).
    gauge(
      'voxelfeed_cache_loads_running',
      'Volume loads (read + decode) in progress now; at most --max-loads.',
      (s) => s.cache.loadsRunning,
    );
    gauge(
      'voxelfeed_cache_loads_queued',
      'Volume loads waiting for one of the --max-loads slots (cache misses not read yet).',
      (s) => s.cache.loadsQueued,
    );
    gauge(
      'voxelfeed_bad_series',
      'Series marked bad: a volume file was missing, truncated or corrupt when loaded; not read again until restart.',
      (s) => s.cache.failedKeys.size,
    );
    gauge(
      'voxelfeed_box_mask_checked_series',
      "Series whose box centres were checked against their mask (at the series' first decode).",
      (s) => s.boxMasks.checkedSeries,
    );
    gauge(
      'voxelfeed_box_mask_mismatch_series',
      'Series whose box centres miss their mask (e.g. boxes saved as (z, x, y) or in millimetres); still served.',
      (s) => s.boxMasks.mismatchedSeries,
    );
  }
}
