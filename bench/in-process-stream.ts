import { BatchMemory } from '../server/batches/batch-memory.js';
import type { StreamRequest } from '../server/batches/crop-request.js';
import { silentLogger } from '../server/log/logger.js';
import { ALL_SERIES } from '../server/sampling/series-split.js';
import { DEFAULT_SERVICE_LIMITS } from '../server/service/service-limits.js';

/** What an in-process benchmark chooses; the rest of its request is `benchStreamRequest`'s defaults. */
type ChosenFields = Pick<
  StreamRequest,
  'datasetName' | 'dataset' | 'policy' | 'cropSize' | 'dtype' | 'batchSize'
>;

/**
 * The request of one stream of the server's batch pipeline run in-process: seed 1, epoch 0, rank 0 of 1,
 * every series, masks included, the whole epoch from step 0, unless `fields` says otherwise.
 */
export function benchStreamRequest(fields: ChosenFields & Partial<StreamRequest>): StreamRequest {
  return {
    seed: 1n,
    epoch: 0,
    includeMask: true,
    split: ALL_SERIES,
    rank: 0,
    worldSize: 1,
    rankGroups: 1,
    startStep: 0,
    maxSteps: 0,
    stepStride: 1,
    ...fields,
  };
}

/**
 * What streamReadyBatches needs, as a served stream has it: batches prepared ahead, their buffers from batch
 * memory of the server's default size (or `batchMemory`, to share or inspect it).
 */
export function benchStreamDeps(
  streamId: string,
  batchMemory = new BatchMemory({ budgetBytes: DEFAULT_SERVICE_LIMITS.batchMemoryBytes }),
) {
  return {
    prefetchBatches: DEFAULT_SERVICE_LIMITS.prefetchBatches,
    batchMemory,
    log: silentLogger,
    streamId,
  };
}
