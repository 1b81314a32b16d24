import type { TrainerStats } from '@voxelfeed/proto';
import type { BatchMemoryStats } from '../batches/batch-memory.js';
import type { StreamObserver } from '../batches/stream-observer.js';
import type { CacheOutcome } from '../cache/volume-cache.js';

/**
 * What the server reports about its work, in one object: Prometheus series (prometheus-telemetry.ts) with
 * `--metrics-port`, nothing at all (noop-telemetry.ts) without. Each part of the server is handed the slice it
 * reports to; the state that is only read when scraped (cache fill, loads, batch memory, trainer stats) is
 * handed over once with `watch`, after the parts exist.
 */
export interface Telemetry {
  /** Stream starts, batches sent and stream ends: the batch pipeline's observer. */
  readonly streams: StreamObserver;
  /** Every gRPC call, refused ones included (fed by call-telemetry-interceptor.ts). */
  readonly calls: CallTelemetry;
  /** What the volume cache did with each request. */
  readonly cache: CacheTelemetry;
  /** Read and decode time of one volume load (a cache miss). */
  volumeLoaded(stats: VolumeLoadTimes): void;
  /** The server state read at scrape time; once per telemetry, when the parts exist. */
  watch(state: WatchedState): void;
}

export interface CacheTelemetry {
  /** A request was a hit, a miss (a load started) or joined a load in flight. */
  onOutcome(outcome: CacheOutcome): void;
  /** A volume was evicted to stay within the byte bound. */
  onEvict(): void;
  /** A volume larger than the whole cache was served without being kept. */
  onOversize(): void;
}

export interface VolumeLoadTimes {
  readonly readMs: number;
  readonly decodeMs: number;
}

/** A method as the standard gRPC server series label it (go-grpc-prometheus). */
export interface GrpcMethodLabels {
  /** `unary`, `client_stream`, `server_stream` or `bidi_stream`. */
  readonly grpc_type: string;
  /** The full service name: `voxelfeed.v1.VoxelFeed`, `grpc.health.v1.Health`. */
  readonly grpc_service: string;
  /** The method name: `StreamBatches`. */
  readonly grpc_method: string;
}

export interface CallTelemetry {
  /** A call arrived (before any interceptor or handler could refuse it). */
  started(method: GrpcMethodLabels): void;
  /** A request message was received. */
  received(method: GrpcMethodLabels): void;
  /** A response message was written to the connection. */
  sent(method: GrpcMethodLabels): void;
  /** The call ended with `code` (a go-grpc status name: `OK`, `Canceled`, `ResourceExhausted`...). */
  handled(method: GrpcMethodLabels, code: string, seconds: number): void;
}

/** What is read of the server when scraped; the parts themselves fit these shapes. */
export interface WatchedState {
  readonly cache: {
    readonly bytesHeld: number;
    readonly maxBytes: number;
    /** Loads reading and decoding now (at most --max-loads). */
    readonly loadsRunning: number;
    /** Loads waiting for a --max-loads slot. */
    readonly loadsQueued: number;
    /** Series whose volumes failed for good and are no longer read. */
    readonly failedKeys: { readonly size: number };
  };
  readonly boxMasks: { readonly checkedSeries: number; readonly mismatchedSeries: number };
  readonly batchMemory: { stats(): BatchMemoryView };
  readonly trainers: { current(): Iterable<{ readonly stats: TrainerStats }> };
}

/** What the batch-memory series read of batch memory's own stats (telemetry implements the pipeline's ports). */
export type BatchMemoryView = Omit<BatchMemoryStats, 'beyondBudget'>;
