import type { GrpcMethodLabels } from './telemetry.js';

/** What grpc-js tells of a method: its path and whether each side streams. */
export interface GrpcMethodShape {
  /** `/voxelfeed.v1.VoxelFeed/StreamBatches` */
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

/** The standard labels of a method: `grpc_type` from its streaming sides, service and method from its path. */
export function grpcMethodLabels(method: GrpcMethodShape): GrpcMethodLabels {
  const slash = method.path.lastIndexOf('/');
  return {
    grpc_type: method.requestStream
      ? method.responseStream
        ? 'bidi_stream'
        : 'client_stream'
      : method.responseStream
        ? 'server_stream'
        : 'unary',
    grpc_service: method.path.slice(method.path.startsWith('/') ? 1 : 0, Math.max(slash, 0)),
    grpc_method: method.path.slice(slash + 1),
  };
}
