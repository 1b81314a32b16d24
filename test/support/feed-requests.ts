import type { TensorDType } from '../../client/feed-batch.js';
import type { StreamBatchesInput } from '../../client/feed-requests.js';
import type { TempDataset } from './phantom-dataset.js';

/**
 * A request for one epoch of exactly `steps` steps of `batchSize` samples per rank over `worldSize` ranks:
 * every nodule once, plus negatives to fill. Crops of 16x32x32 float32 voxels with masks unless told otherwise.
 */
export function exactEpochRequest(
  dataset: Pick<TempDataset, 'nodules'>,
  options: {
    steps: number;
    batchSize: number;
    worldSize?: number;
    seed: number;
    epoch?: number;
    cropSize?: readonly [number, number, number];
    dtype?: TensorDType;
    includeMask?: boolean;
  },
): StreamBatchesInput {
  const worldSize = options.worldSize ?? 1;
  return {
    seed: options.seed,
    epoch: options.epoch ?? 0,
    worldSize,
    batchSize: options.batchSize,
    cropSize: options.cropSize ?? [16, 32, 32],
    dtype: options.dtype ?? 'float32',
    includeMask: options.includeMask ?? true,
    sampling: {
      samplesPerNodule: 1,
      negativesPerEpoch: worldSize * options.batchSize * options.steps - dataset.nodules,
    },
  };
}
