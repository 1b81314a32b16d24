import type { FeedBatch, FeedClient, GetSampleInput, StreamBatchesInput } from '@voxelfeed/client';
import { VoxelfeedError } from '@voxelfeed/common/voxelfeed-error.js';
import type { PreviewBatch } from './preview-batch.js';

/** The calls a preview makes: the feed client's, so tests and the browser can share one client. */
export type PreviewFeed = Pick<FeedClient, 'streamBatches' | 'getSample'>;

/** A batch and the file stem it is written under. */
export interface NamedBatch {
  /** `step-000003` or `sample-000123`. */
  readonly name: string;
  readonly batch: PreviewBatch;
}

/**
 * The batches of a preview: the request's steps from --start-step (one StreamBatches call), or with
 * `indices` one GetSample per plan position, in the order given.
 */
export async function* previewBatches(
  feed: PreviewFeed,
  request: StreamBatchesInput,
  indices: readonly number[] | null,
  signal?: AbortSignal,
): AsyncGenerator<NamedBatch> {
  if (indices !== null) {
    for (const index of indices) {
      signal?.throwIfAborted();
      yield { name: `sample-${pad(index)}`, batch: await fetchSample(feed, request, index) };
    }
    return;
  }
  for await (const batch of feed.streamBatches(request, signal === undefined ? {} : { signal })) {
    yield { name: `step-${pad(batch.step)}`, batch: toPreviewBatch(batch, batch.step) };
  }
}

/** One step's batch: a StreamBatches call for that step alone. */
export async function fetchStep(
  feed: PreviewFeed,
  request: StreamBatchesInput,
  step: number,
): Promise<PreviewBatch> {
  for await (const batch of feed.streamBatches({ ...request, startStep: step, maxSteps: 1 })) {
    return toPreviewBatch(batch, batch.step);
  }
  throw new VoxelfeedError(
    'OUT_OF_RANGE',
    `step ${step}: the server sent no batch for it; pick an earlier step`,
  );
}

/** One sample by plan position (GetSample), as a batch of one. */
export async function fetchSample(
  feed: PreviewFeed,
  request: StreamBatchesInput,
  index: number,
): Promise<PreviewBatch> {
  return toPreviewBatch(await feed.getSample(sampleRequest(request, index)), null);
}

/** The GetSample request for a plan position: the crop fields of the StreamBatches request, mask included. */
export function sampleRequest(request: StreamBatchesInput, index: number): GetSampleInput {
  return {
    ...(request.dataset === undefined ? {} : { dataset: request.dataset }),
    ...(request.seed === undefined ? {} : { seed: request.seed }),
    ...(request.epoch === undefined ? {} : { epoch: request.epoch }),
    cropSize: request.cropSize,
    ...(request.sampling === undefined ? {} : { sampling: request.sampling }),
    ...(request.split === undefined ? {} : { split: request.split }),
    dtype: 'uint8',
    includeMask: true,
    index,
  };
}

function toPreviewBatch(batch: FeedBatch, step: number | null): PreviewBatch {
  if (!(batch.image instanceof Uint8Array) || batch.mask === null) {
    // The requests above ask for uint8 voxels and masks; anything else is a server that ignored them.
    throw new VoxelfeedError(
      'DATA_LOSS',
      `the server sent ${batch.dtype} voxels ${batch.mask === null ? 'without' : 'with'} masks for a request of uint8 voxels with masks; check the server's version`,
    );
  }
  return {
    step,
    stepsInEpoch: batch.stepsInEpoch,
    shape: batch.shape,
    image: batch.image,
    mask: batch.mask,
    samples: batch.samples,
  };
}

function pad(value: number): string {
  return String(value).padStart(6, '0');
}
