import type { ServerReadableStream, sendUnaryData } from '@grpc/grpc-js';
import type { ReleaseSharedBatchesRequest, ReleaseSharedBatchesResponse } from '@voxelfeed/proto';
import type { SharedMemoryRings } from '../shm/shared-memory-rings.js';

/**
 * ReleaseSharedBatches: a same-host client's releases, one message each, on one call that stays open while
 * its stream runs. The file's path names the stream (only a client that can read the file knows it); ids
 * already released, or of a stream that is over, change nothing, so the call always ends OK when the client
 * ends it (a message that does not decode ends it with INVALID_ARGUMENT: undecodable-request.ts).
 */
export function createReleaseSharedBatchesHandler(deps: { readonly rings: SharedMemoryRings }) {
  return (
    call: ServerReadableStream<ReleaseSharedBatchesRequest, ReleaseSharedBatchesResponse>,
    callback: sendUnaryData<ReleaseSharedBatchesResponse>,
  ): void => {
    call.on('data', (request: ReleaseSharedBatchesRequest) => {
      deps.rings.release(request.path, request.ids);
    });
    call.on('end', () => callback(null, {}));
    // A client that goes away ends the call with it; its streams' files go with those streams.
    call.on('error', () => {});
  };
}
