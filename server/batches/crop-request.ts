import { DType, type GetSampleRequest, SplitPart, type StreamBatchesRequest } from '@voxelfeed/proto';
import { isVoxelfeedError, VoxelfeedError } from '../errors.js';
import { validateCropSize } from '../sampling/crop-size.js';
import { foregroundSlots } from '../sampling/foreground-slots.js';
import { resolveSamplingPolicy } from '../sampling/sampling-policy.js';
import { resolveSeriesSplit, type SeriesSplit } from '../sampling/series-split.js';
import type { SamplingPolicy, Shape3 } from '../sampling/types.js';
import type { DatasetRegistry, ServedDataset } from './served-dataset.js';
import { unknownDatasetError } from './unknown-dataset-error.js';

export type TensorDType = 'uint8' | 'float32';

/** The limits a request is checked against; the server fills them from its config (serve --max-*). */
export interface CropRequestLimits {
  /** Largest crop, in voxels per sample. */
  readonly maxCropVoxels: number;
  /** Largest encoded batch (image + mask tensors), in bytes. */
  readonly maxBatchBytes: number;
  readonly maxBatchSize: number;
  readonly maxWorldSize: number;
}

/**
 * The largest step_stride: far more loader processes per rank than any host runs, and small enough that
 * `start_step + max_steps * step_stride` stays an exact integer.
 */
export const MAX_STEP_STRIDE = 1024;

/** What every crop request resolves to, all defaults filled in and all values checked. */
export interface CropRequest {
  readonly datasetName: string;
  readonly dataset: ServedDataset;
  readonly seed: bigint;
  readonly epoch: number;
  readonly policy: SamplingPolicy;
  readonly cropSize: Shape3;
  readonly dtype: TensorDType;
  readonly includeMask: boolean;
  readonly split: SeriesSplit;
}

export interface StreamRequest extends CropRequest {
  readonly rank: number;
  readonly worldSize: number;
  /** 1: ranks interleaved step by step; K: the plan in K parts, ranks r = g mod K on part g. */
  readonly rankGroups: number;
  readonly batchSize: number;
  readonly startStep: number;
  /** Batches to send; 0: to the end of the epoch. */
  readonly maxSteps: number;
  /** 1: every step from startStep; n: every n-th step (the loader processes of one rank sharing its steps). */
  readonly stepStride: number;
}

export interface SampleRequest extends CropRequest {
  readonly index: number;
}

/** Bytes of one sample's tensors in a batch: the image in its dtype plus the uint8 mask if asked for. */
export function sampleTensorBytes(request: CropRequest): number {
  const voxels = request.cropSize[0] * request.cropSize[1] * request.cropSize[2];
  return voxels * (request.dtype === 'float32' ? 4 : 1) + (request.includeMask ? voxels : 0);
}

export function resolveStreamRequest(
  wire: StreamBatchesRequest,
  registry: DatasetRegistry,
  limits: CropRequestLimits,
): StreamRequest {
  const problems: string[] = [];
  const common = resolveCommon(wire, registry, limits, problems);
  const worldSize = wire.worldSize === 0 ? 1 : wire.worldSize;
  if (worldSize > limits.maxWorldSize) {
    problems.push(`world_size is ${worldSize}; the server accepts at most ${limits.maxWorldSize}`);
  }
  if (wire.rank >= worldSize) {
    problems.push(`rank is ${wire.rank} but world_size is ${worldSize}; rank must be 0..${worldSize - 1}`);
  }
  const rankGroups = wire.rankGroups === 0 ? 1 : wire.rankGroups;
  if (rankGroups > worldSize) {
    problems.push(
      `rank_groups is ${rankGroups} but world_size is ${worldSize}; use 1..${worldSize} (the number of replicas the ranks are spread over)`,
    );
  }
  if (wire.batchSize === 0) {
    problems.push('batch_size is 0; ask for at least 1 sample per batch');
  } else if (wire.batchSize > limits.maxBatchSize) {
    problems.push(`batch_size is ${wire.batchSize}; the server accepts at most ${limits.maxBatchSize}`);
  }
  const startStep = toSafeInteger(wire.startStep, 'start_step', problems);
  const maxSteps = toSafeInteger(wire.maxSteps, 'max_steps', problems);
  const stepStride = wire.stepStride === 0 ? 1 : wire.stepStride;
  if (stepStride > MAX_STEP_STRIDE) {
    problems.push(
      `step_stride is ${stepStride}; use 1..${MAX_STEP_STRIDE} (the number of loader processes sharing a rank's steps)`,
    );
  }
  if (common?.policy.foregroundShare !== undefined && wire.batchSize > 0) {
    const forced = foregroundSlots(common.policy.foregroundShare, wire.batchSize);
    if (forced > 0 && common.dataset.catalog.nodules === 0) {
      problems.push(
        `sampling.foreground_share is ${common.policy.foregroundShare} but data set ${common.datasetName} has no nodule to centre on; set foreground_share to 0`,
      );
    }
  }
  if (common !== null && wire.batchSize > 0) {
    const batchBytes = sampleTensorBytes(common) * wire.batchSize;
    if (batchBytes > limits.maxBatchBytes) {
      problems.push(
        `a batch of ${wire.batchSize} crops ${common.cropSize.join('x')} ${common.dtype}${common.includeMask ? ' + mask' : ''} takes ${formatMiB(batchBytes)}, over the server's limit of ${formatMiB(limits.maxBatchBytes)} (serve --max-batch-bytes); lower batch_size or crop_size, or use DTYPE_UINT8`,
      );
    }
  }
  throwIfProblems(problems);
  return {
    ...common!,
    rank: wire.rank,
    worldSize,
    rankGroups,
    batchSize: wire.batchSize,
    startStep,
    maxSteps,
    stepStride,
  };
}

export function resolveSampleRequest(
  wire: GetSampleRequest,
  registry: DatasetRegistry,
  limits: CropRequestLimits,
): SampleRequest {
  const problems: string[] = [];
  const common = resolveCommon(wire, registry, limits, problems);
  const index = toSafeInteger(wire.index, 'index', problems);
  if (common?.policy.foregroundShare !== undefined) {
    problems.push(
      `sampling.foreground_share is ${common.policy.foregroundShare}; GetSample has no batch to share, so it serves no foreground share: set it to 0, or take the sample from a stream`,
    );
  }
  throwIfProblems(problems);
  return { ...common!, index };
}

function resolveCommon(
  wire: StreamBatchesRequest | GetSampleRequest,
  registry: DatasetRegistry,
  limits: CropRequestLimits,
  problems: string[],
): CropRequest | null {
  const datasetName = wire.dataset === '' ? registry.defaultName : wire.dataset;
  const dataset = registry.datasets.get(datasetName);
  if (dataset === undefined) throw unknownDatasetError(wire.dataset, registry.datasets.keys());
  let policy: SamplingPolicy | null = null;
  try {
    policy = resolveSamplingPolicy(wire.sampling);
  } catch (error) {
    if (!isVoxelfeedError(error)) throw error;
    problems.push(error.message);
  }
  let cropSize: Shape3 | null = null;
  try {
    cropSize = validateCropSize(wire.cropSize, limits.maxCropVoxels);
  } catch (error) {
    if (!isVoxelfeedError(error)) throw error;
    problems.push(error.message);
  }
  let dtype: TensorDType | null = null;
  if (wire.dtype === DType.DTYPE_UNSPECIFIED || wire.dtype === DType.DTYPE_UINT8) dtype = 'uint8';
  else if (wire.dtype === DType.DTYPE_FLOAT32) dtype = 'float32';
  else problems.push(`dtype is ${wire.dtype}; use DTYPE_UINT8 (1) or DTYPE_FLOAT32 (2)`);
  let split: SeriesSplit | null = null;
  try {
    split = resolveSeriesSplit(
      wire.split === undefined
        ? undefined
        : { holdoutFraction: wire.split.holdoutFraction, part: splitPartOf(wire.split.part) },
    );
  } catch (error) {
    if (!isVoxelfeedError(error)) throw error;
    problems.push(error.message);
  }
  if (policy !== null && cropSize !== null && (policy.augmentation?.rotate90Prob ?? 0) > 0) {
    if (cropSize[1] !== cropSize[2]) {
      problems.push(
        `sampling.augmentation.rotate90_prob is ${policy.augmentation?.rotate90Prob} but crop_size ${cropSize.join(',')} has sizes 1 and 2 unequal; quarter turns in the plane of axes 1 and 2 need them equal: set rotate90_prob to 0 or make them equal`,
      );
    }
  }
  if (policy === null || cropSize === null || dtype === null || split === null) return null;
  return {
    datasetName,
    dataset,
    seed: wire.seed,
    epoch: wire.epoch,
    policy,
    cropSize,
    dtype,
    includeMask: wire.includeMask,
    split,
  };
}

/** The wire's split part as resolveSeriesSplit takes it. */
export function splitPartOf(part: SplitPart): 'all' | 'train' | 'holdout' | 'invalid' {
  if (part === SplitPart.SPLIT_PART_ALL) return 'all';
  if (part === SplitPart.SPLIT_PART_TRAIN) return 'train';
  if (part === SplitPart.SPLIT_PART_HOLDOUT) return 'holdout';
  return 'invalid';
}

function toSafeInteger(value: bigint, field: string, problems: string[]): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    problems.push(`${field} is ${value}; it must be at most ${Number.MAX_SAFE_INTEGER}`);
    return 0;
  }
  return Number(value);
}

function throwIfProblems(problems: readonly string[]): void {
  if (problems.length > 0) throw new VoxelfeedError('INVALID_ARGUMENT', problems.join('; '));
}

export function formatMiB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
