import type { ServerWritableStream } from '@grpc/grpc-js';
import type { StreamBatchesRequest } from '@voxelfeed/proto';
import type { BatchMemory } from '../batches/batch-memory.js';
import { CropFitWarnings } from '../batches/crop-fit-warnings.js';
import { resolveStreamRequest } from '../batches/crop-request.js';
import type { EncodedBatch } from '../batches/encoded-batch.js';
import type { DatasetRegistry } from '../batches/served-dataset.js';
import { streamReadyBatches } from '../batches/stream-ready-batches.js';
import { sameHostMessages } from '../shm/same-host-messages.js';
import type { SharedMemoryRings } from '../shm/shared-memory-rings.js';
import { callLanding } from './call-landing.js';
import { type MessageStreamDeps, serveMessageStream } from './serve-message-stream.js';
import type { ServiceLimits } from './service-limits.js';

export { SHUTTING_DOWN_MESSAGE } from './serve-message-stream.js';

export interface StreamBatchesDeps extends MessageStreamDeps {
  readonly registry: DatasetRegistry;
  readonly limits: ServiceLimits;
  /** Where every stream's batch buffers come from: the server's budget for them (--batch-memory). */
  readonly batchMemory: BatchMemory;
  /** Same-host streams' files (StreamBatchesRequest.shared_memory), which ReleaseSharedBatches names. */
  readonly sharedMemory: SharedMemoryRings;
}

/**
 * Serves one rank's batches for one epoch from `start_step`: the batches come from streamReadyBatches (up to
 * `prefetchBatches` prepared ahead), and serveMessageStream sends them with at most `maxUnflushedBatches`
 * waiting in gRPC's buffers; their buffers come from the server's batch memory, so all streams together
 * hold at most its budget. A request for the same-host path gets its batches through shared memory when the
 * client's probe shows it runs on this host (sameHostMessages), and the normal stream otherwise.
 */
export function createStreamBatchesHandler(deps: StreamBatchesDeps) {
  const cropFit = new CropFitWarnings();
  return (call: ServerWritableStream<StreamBatchesRequest, EncodedBatch['framed']>): Promise<void> => {
    const request = call.request;
    return serveMessageStream(call, deps, {
      logFields: {
        dataset: request.dataset,
        seed: String(request.seed),
        epoch: request.epoch,
        rank: request.rank,
        worldSize: request.worldSize,
        rankGroups: request.rankGroups,
        batchSize: request.batchSize,
        crop: request.cropSize.join('x'),
        startStep: String(request.startStep),
        stepStride: request.stepStride,
        sameHost: request.sharedMemory !== undefined,
      },
      messages: (signal, log, streamId) => {
        const batches = streamReadyBatches(
          resolveStreamRequest(request, deps.registry, deps.limits),
          signal,
          {
            prefetchBatches: deps.limits.prefetchBatches,
            batchMemory: deps.batchMemory,
            log,
            streamId,
            observer: deps.observer,
            cropFit,
            imageLanding: callLanding(call.metadata),
          },
        );
        if (request.sharedMemory === undefined) return batches;
        return sameHostMessages(request.sharedMemory, batches, signal, {
          rings: deps.sharedMemory,
          slots: deps.limits.maxUnflushedBatches,
          streamId,
          log,
          sendMetadata: (metadata) => call.sendMetadata(metadata),
        });
      },
    });
  };
}
