import {
  type ChannelOptions,
  Server,
  ServerCredentials,
  type ServerInterceptor,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import type { StreamBatchesRequest, StreamTilesRequest } from '@voxelfeed/proto';
import { HealthImplementation } from 'grpc-health-check';
import { BatchMemory } from '../batches/batch-memory.js';
import { DrainNotice } from '../batches/drain-notice.js';
import type { EncodedBatch } from '../batches/encoded-batch.js';
import type { DatasetRegistry } from '../batches/served-dataset.js';
import { StreamAdmission } from '../batches/stream-admission.js';
import type { Logger } from '../log/logger.js';
import { SharedMemoryRings } from '../shm/shared-memory-rings.js';
import { createCallTelemetryInterceptor } from '../telemetry/call-telemetry-interceptor.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import { createReflectionService } from './create-reflection-service.js';
import { createGetDatasetInfoHandler } from './handle-get-dataset-info.js';
import { createGetSampleHandler } from './handle-get-sample.js';
import { createReleaseSharedBatchesHandler } from './handle-release-shared-batches.js';
import { createReportTrainerStatsHandler } from './handle-report-trainer-stats.js';
import { createStreamBatchesHandler } from './handle-stream-batches.js';
import { createStreamTilesHandler } from './handle-stream-tiles.js';
import { createPreFramedInterceptor } from './pre-framed-messages.js';
import { serverVoxelFeedService } from './server-service-definition.js';
import type { ServiceLimits } from './service-limits.js';
import type { TrainerStatsStore } from './trainer-stats-store.js';
import { createUndecodableRequestInterceptor } from './undecodable-request.js';

export const VOXELFEED_SERVICE_NAME = 'voxelfeed.v1.VoxelFeed';

/**
 * The largest request message accepted. Every request is a few hundred bytes (the largest, TrainerStats or a
 * StreamBatchesRequest with its sampling options, well under 1 KiB); a larger one is refused by grpc-js with
 * RESOURCE_EXHAUSTED before any handler runs, so a client cannot make the server buffer megabytes.
 */
export const MAX_REQUEST_BYTES = 64 * 1024;

/**
 * After the grace period, the longest open streams get to deliver their UNAVAILABLE status (it waits behind the
 * batches already queued for the client) before the connections are cut. Shutdown goes on as soon as every
 * status is out, usually within milliseconds; the bound only matters for a client that stopped reading. It does
 * not follow the grace period: with a short grace on a busy host, handing over many statuses takes longer than
 * the grace, and a cut stream ends with CANCELLED, which clients take as final instead of resuming elsewhere.
 */
export const STATUS_FLUSH_MS = 5000;

type StreamCall = ServerWritableStream<StreamBatchesRequest | StreamTilesRequest, EncodedBatch['framed']>;

export interface VoxelfeedServer {
  readonly server: Server;
  readonly health: HealthImplementation;
  /** The bound port (useful with port 0). */
  readonly port: number;
  /**
   * Health NOT_SERVING and no new calls at once; open calls get `graceMs` to finish; then open streams end with
   * UNAVAILABLE ("the server is shutting down; resume on another replica") and, once their status is out
   * (at most `STATUS_FLUSH_MS` later), every connection is closed.
   */
  shutdown(graceMs: number): Promise<void>;
}

/**
 * grpc-js server options from the limits: message sizes, and the connection timers grpc-js 1.14 honours on a
 * server (`grpc.keepalive_time_ms`, `grpc.keepalive_timeout_ms`, `grpc.max_connection_idle_ms`). The keepalive
 * pings are how the server notices a client that vanished without closing its connection (a crashed host, a
 * dropped network): its streams end and free their slots. grpc-js servers do not police client pings
 * (`grpc.http2.min_ping_interval_without_data_ms` and `grpc.keepalive_permit_without_calls` are not read), so
 * no client keepalive setting gets a GOAWAY from this server. 0 turns a timer off: grpc-js would take an idle
 * timeout of 0 literally and close every connection as soon as its last call ends.
 */
export function grpcServerOptions(limits: ServiceLimits): ChannelOptions {
  return {
    'grpc.max_receive_message_length': MAX_REQUEST_BYTES,
    'grpc.max_send_message_length': limits.maxBatchBytes + 16 * 1024 * 1024,
    ...(limits.keepaliveMs > 0
      ? {
          'grpc.keepalive_time_ms': limits.keepaliveMs,
          'grpc.keepalive_timeout_ms': limits.keepaliveTimeoutMs,
        }
      : {}),
    ...(limits.idleTimeoutMs > 0 ? { 'grpc.max_connection_idle_ms': limits.idleTimeoutMs } : {}),
  };
}

export interface CreateServerOptions {
  readonly registry: DatasetRegistry;
  readonly limits: ServiceLimits;
  readonly log: Logger;
  readonly host: string;
  readonly port: number;
  /** Where every call and every stream's batches are reported (Prometheus, or nothing). */
  readonly telemetry: Pick<Telemetry, 'calls' | 'streams'>;
  readonly trainerStats: TrainerStatsStore;
  /** TLS (server-credentials from read-tls-files.ts); absent: plaintext. */
  readonly credentials?: ServerCredentials;
  /** Run on every call before its handler, in order (the bearer-token check: auth-interceptor.ts). */
  readonly interceptors?: readonly ServerInterceptor[];
  /** The error a failed bind rejects with (a line naming the option and the fix); absent: grpc-js's own. */
  readonly bindFailure?: (error: Error) => Error;
  /** The streams' batch buffers; default: a budget of `limits.batchMemoryBytes`, left to V8 to collect. */
  readonly batchMemory?: BatchMemory;
}

/**
 * Builds and binds the gRPC server: the VoxelFeed service, the standard `grpc.health.v1.Health` service and
 * server reflection (so grpcurl and ghz work without the .proto files). Message limits are explicit: requests
 * are small, responses may be as large as the largest batch the service allows.
 */
export async function createGrpcServer(options: CreateServerOptions): Promise<VoxelfeedServer> {
  let warnedCopied = false;
  const server = new Server({
    ...grpcServerOptions(options.limits),
    interceptors: [
      // First, to count every call with the status it really ended with, those that grpc-js and the
      // interceptors below refuse before any handler included. It passes on the call it was given, so the
      // next one still sees the call that frames messages.
      createCallTelemetryInterceptor(options.telemetry.calls),
      // The first to wrap the call: it must see the call that frames messages (pre-framed-messages.ts).
      createPreFramedInterceptor({
        paths: [
          serverVoxelFeedService.streamBatches.path,
          serverVoxelFeedService.streamTiles.path,
          serverVoxelFeedService.getSample.path,
        ],
        onCopied: (path) => {
          if (warnedCopied) return;
          warnedCopied = true;
          options.log.warn(
            { method: path },
            'this grpc-js frames every batch into a copy of its own: batches take up to twice --batch-memory',
          );
        },
      }),
      ...(options.interceptors ?? []),
      createUndecodableRequestInterceptor({ log: options.log }),
    ],
  });
  const deps = { registry: options.registry, limits: options.limits, log: options.log };
  const draining = new DrainNotice();
  const batchMemory =
    options.batchMemory ?? new BatchMemory({ budgetBytes: options.limits.batchMemoryBytes });
  const streamDeps = {
    ...deps,
    batchMemory,
    observer: options.telemetry.streams,
    draining,
    // One count for both streaming methods: each open stream holds messages in memory and a share of the CPU.
    admission: new StreamAdmission(options.limits),
  };
  const sharedMemory = new SharedMemoryRings();
  const handleBatches = createStreamBatchesHandler({ ...streamDeps, sharedMemory });
  const handleTiles = createStreamTilesHandler(streamDeps);
  const openStreams = new Set<StreamCall>();
  let streamsClosed: (() => void) | null = null;
  /** Open until grpc-js says the call is over: its status handed to the connection, or the client gone. */
  const tracked =
    <Call extends StreamCall>(handle: (call: Call) => Promise<void>) =>
    (call: Call) => {
      openStreams.add(call);
      call.once('cancelled', () => {
        openStreams.delete(call);
        if (openStreams.size === 0) streamsClosed?.();
      });
      void handle(call);
    };
  server.addService(serverVoxelFeedService, {
    getDatasetInfo: createGetDatasetInfoHandler(deps),
    streamBatches: tracked(handleBatches),
    streamTiles: tracked(handleTiles),
    getSample: createGetSampleHandler(deps),
    reportTrainerStats: createReportTrainerStatsHandler({ store: options.trainerStats, log: options.log }),
    releaseSharedBatches: createReleaseSharedBatchesHandler({ rings: sharedMemory }),
  });
  const health = new HealthImplementation({ '': 'SERVING', [VOXELFEED_SERVICE_NAME]: 'SERVING' });
  health.addToServer(server);
  (await createReflectionService()).addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    const address = options.host.includes(':')
      ? `[${options.host}]:${options.port}`
      : `${options.host}:${options.port}`;
    server.bindAsync(address, options.credentials ?? ServerCredentials.createInsecure(), (error, bound) => {
      if (error) reject(options.bindFailure?.(error) ?? error);
      else resolve(bound);
    });
  });

  return {
    server,
    health,
    port,
    shutdown: async (graceMs: number) => {
      health.setStatus('', 'NOT_SERVING');
      health.setStatus(VOXELFEED_SERVICE_NAME, 'NOT_SERVING');
      const closed = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      // Files of same-host streams that ended but whose batches were not all released go with the server.
      if (await settlesWithin(closed, graceMs)) return await sharedMemory.closeAll();
      // grpc-js's forceShutdown alone would end open streams with CANCELLED, which clients take as final.
      draining.start();
      const allEnded =
        openStreams.size === 0
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              streamsClosed = resolve;
            });
      await settlesWithin(allEnded, STATUS_FLUSH_MS);
      // A status handed to the connection goes out on its next write: one turn of the event loop.
      await new Promise<void>((resolve) => setImmediate(resolve));
      server.forceShutdown();
      await sharedMemory.closeAll();
    },
  };
}

/** Whether `promise` settles within `ms` milliseconds (the timer is cleared either way). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
