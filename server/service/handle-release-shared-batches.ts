import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import type { ReleaseSharedBatchesRequest, ReleaseSharedBatchesResponse } from '@voxelfeed/proto';
import type { SharedMemoryRings } from '../shm/shared-memory-rings.js';

/**
 * ReleaseSharedBatches: the client of a same-host stream is done with these batches. The file's path names
 * the stream (only a client that can read the file knows it); ids already released, or of a stream that is
 * over, change nothing, so the call always succeeds.
 */
export function createReleaseSharedBatchesHandler(deps: { readonly rings: SharedMemoryRings }) {
  return (
    call: ServerUnaryCall<ReleaseSharedBatchesRequest, ReleaseSharedBatchesResponse>,
    callback: sendUnaryData<ReleaseSharedBatchesResponse>,
  ): void => {
    deps.rings.release(call.request.path, call.request.ids);
    callback(null, {});
  };
}
