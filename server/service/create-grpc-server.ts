import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  status as GrpcStatus,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import type { Logger } from '../log/logger.js';
import { createGetDatasetInfoHandler } from './handle-get-dataset-info.js';
import { createGetSampleHandler } from './handle-get-sample.js';
import { createReportTrainerStatsHandler } from './handle-report-trainer-stats.js';
import { createStreamBatchesHandler, type StreamObserver } from './handle-stream-batches.js';
import type { DatasetRegistry } from './served-dataset.js';
import { serverVoxelFeedService } from './server-service-definition.js';
import type { ServiceLimits } from './service-limits.js';
import type { TrainerStatsStore } from './trainer-stats-store.js';

export const VOXELFEED_SERVICE_NAME = 'voxelfeed.v1.VoxelFeed';

const PROTO_ROOT = fileURLToPath(new URL('../../proto', import.meta.url));

export interface VoxelfeedServer {
  readonly server: Server;
  readonly health: HealthImplementation;
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** Stops accepting calls, lets open calls finish for `graceMs`, then cancels the rest. */
  shutdown(graceMs: number): Promise<void>;
}

export interface CreateServerOptions {
  readonly registry: DatasetRegistry;
  readonly limits: ServiceLimits;
  readonly log: Logger;
  readonly host: string;
  readonly port: number;
  readonly observer?: StreamObserver;
  readonly trainerStats: TrainerStatsStore;
  /** Every unary call's end, by method and status code name (streams report through `observer`). */
  readonly onCallEnd?: (method: string, code: string) => void;
}

/**
 * Builds and binds the gRPC server: the VoxelFeed service, the standard `grpc.health.v1.Health` service and
 * server reflection (so grpcurl and ghz work without the .proto files). Message limits are explicit: requests
 * are small, responses may be as large as the largest batch the service allows.
 */
export async function createGrpcServer(options: CreateServerOptions): Promise<VoxelfeedServer> {
  const server = new Server({
    'grpc.max_receive_message_length': 1024 * 1024,
    'grpc.max_send_message_length': options.limits.maxBatchBytes + 16 * 1024 * 1024,
  });
  const deps = { registry: options.registry, limits: options.limits, log: options.log };
  const counted = <Request, Response>(
    method: string,
    handler: (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>) => void,
  ) =>
    options.onCallEnd === undefined
      ? handler
      : (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>) =>
          handler(call, (error, value) => {
            options.onCallEnd?.(
              method,
              error ? (GrpcStatus[error.code ?? GrpcStatus.UNKNOWN] ?? 'UNKNOWN') : 'OK',
            );
            callback(error, value);
          });
  server.addService(serverVoxelFeedService, {
    getDatasetInfo: counted('GetDatasetInfo', createGetDatasetInfoHandler(deps)),
    streamBatches: createStreamBatchesHandler({
      ...deps,
      ...(options.observer ? { observer: options.observer } : {}),
    }),
    getSample: counted('GetSample', createGetSampleHandler(deps)),
    reportTrainerStats: counted(
      'ReportTrainerStats',
      createReportTrainerStatsHandler({ store: options.trainerStats, log: options.log }),
    ),
  });
  const health = new HealthImplementation({ '': 'SERVING', [VOXELFEED_SERVICE_NAME]: 'SERVING' });
  health.addToServer(server);
  const definitions = loadSync(['voxelfeed/v1/voxelfeed.proto', 'health/v1/health.proto'], {
    includeDirs: [PROTO_ROOT, path.resolve(path.dirname(healthProtoPath), '../..')],
  });
  new ReflectionService(definitions).addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    const address = options.host.includes(':')
      ? `[${options.host}]:${options.port}`
      : `${options.host}:${options.port}`;
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, bound) => {
      if (error) reject(error);
      else resolve(bound);
    });
  });

  return {
    server,
    health,
    port,
    shutdown: (graceMs: number) =>
      new Promise<void>((resolve) => {
        health.setStatus('', 'NOT_SERVING');
        health.setStatus(VOXELFEED_SERVICE_NAME, 'NOT_SERVING');
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
