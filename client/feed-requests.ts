import {
  DType,
  type GetSampleRequest,
  SamplingOptions,
  SplitPart,
  type StreamBatchesRequest,
  type StreamTilesRequest,
  type TrainerStats,
} from '@voxelfeed/proto';
import type { TensorDType } from './feed-batch.js';
import { FeedError } from './feed-error.js';

/** Fields both requests share. Unset fields take the wire defaults; the server checks everything else. */
export interface CropInput {
  /** Data set name; empty or unset: the server's default. */
  dataset?: string;
  /** Every batch is a function of (seed, epoch, step, rank, world size). Default 0; a bigint for 64 bits. */
  seed?: number | bigint;
  epoch?: number;
  /** (s0, s1, s2) in NRRD axis order, e.g. [16, 96, 96]. */
  cropSize: readonly [number, number, number];
  /**
   * Zero or unset fields mean the server's defaults (probabilities 0.5 / 0.4 / 0.1 when all three are 0). Set
   * probabilities must sum to 1 (within 1e-6): the server refuses any other sum.
   */
  sampling?: Partial<SamplingOptions>;
  /** Default 'uint8' (the stored voxels); 'float32' is voxel / 255. */
  dtype?: TensorDType;
  /** Default false, as on the wire. */
  includeMask?: boolean;
  /**
   * Which series to draw from, split by a hash of their uid: `part` 'train' or 'holdout' with the same
   * `holdoutFraction` (0..1) on both sides. Unset: every series.
   */
  split?: { holdoutFraction: number; part: SplitPartName };
}

export type SplitPartName = 'all' | 'train' | 'holdout';

const SPLIT_PARTS: Record<SplitPartName, SplitPart> = {
  all: SplitPart.SPLIT_PART_ALL,
  train: SplitPart.SPLIT_PART_TRAIN,
  holdout: SplitPart.SPLIT_PART_HOLDOUT,
};

/** A `StreamBatchesRequest` with numbers for steps and a typed crop; see the .proto for each field. */
export interface StreamBatchesInput extends CropInput {
  rank?: number;
  /** Default 1. */
  worldSize?: number;
  /**
   * Default 1: ranks take turns over the whole plan. K (the number of replicas, with the client's
   * `rankAffinity`): the plan is cut into K parts and replica r mod K serves part r mod K only, so each
   * replica decodes and caches only its own part's series. Changes which batches a rank gets.
   */
  rankGroups?: number;
  batchSize: number;
  /** First step to stream, default 0. */
  startStep?: number;
  /** Steps to stream; 0 or unset: to the end of the epoch. */
  maxSteps?: number;
  /**
   * Default 1: every step from `startStep`. n: every n-th step (`startStep`, `startStep + n`, ...), so n loader
   * processes of one rank that start at `startStep + w` share its steps, each step once; `maxSteps` counts
   * batches.
   */
  stepStride?: number;
}

export interface GetSampleInput extends CropInput {
  /** Plan position in the epoch (`SampleInfoView.index`). */
  index: number;
}

export function toStreamBatchesRequest(input: StreamBatchesInput): StreamBatchesRequest {
  const problems: string[] = [];
  const common = toCommon(input, problems);
  const request: StreamBatchesRequest = {
    ...common,
    rank: uint32(input.rank ?? 0, 'rank', problems),
    worldSize: uint32(input.worldSize ?? 1, 'worldSize', problems),
    rankGroups: uint32(input.rankGroups ?? 1, 'rankGroups', problems),
    batchSize: uint32(input.batchSize, 'batchSize', problems),
    startStep: uint53(input.startStep ?? 0, 'startStep', problems),
    maxSteps: uint53(input.maxSteps ?? 0, 'maxSteps', problems),
    stepStride: uint32(input.stepStride ?? 1, 'stepStride', problems),
    // Set per call by the same-host path (shm-batch-calls.ts), which writes a probe for each.
    sharedMemory: undefined,
  };
  throwIfProblems(problems, 'stream request');
  return request;
}

export function toGetSampleRequest(input: GetSampleInput): GetSampleRequest {
  const problems: string[] = [];
  const request: GetSampleRequest = {
    ...toCommon(input, problems),
    index: uint53(input.index, 'index', problems),
  };
  throwIfProblems(problems, 'sample request');
  return request;
}

/** A `StreamTilesRequest` with numbers for tiles; see the .proto for the grid rule and each field. */
export interface StreamTilesInput {
  /** Data set name; empty or unset: the server's default. */
  dataset?: string;
  /** The series to tile, in this order, each once; unset or empty: those of `split` (every series). */
  seriesUids?: readonly string[];
  /** Which series to tile, split as for training (not together with `seriesUids`). */
  split?: { holdoutFraction: number; part: SplitPartName };
  /** (s0, s1, s2) in NRRD axis order, e.g. [16, 96, 96]. */
  tileSize: readonly [number, number, number];
  /** Share of a tile that neighbours overlap: one for every axis or three; unset: 0.5 (nnU-Net's default). */
  overlap?: number | readonly [number, number, number];
  /** Most tiles per message; default 1. A message never holds tiles of two series. */
  batchSize?: number;
  /** Default 'uint8' (the stored voxels); 'float32' is voxel / 255. */
  dtype?: TensorDType;
  /** Default false. */
  includeMask?: boolean;
  /** Image value past an edge the volume does not cover, an integer 0..255; default 0. */
  padValue?: number;
  /** Resume: the position in the list of series and the tile number in that series; default 0, 0. */
  startSeries?: number;
  startTile?: number;
}

export function toStreamTilesRequest(input: StreamTilesInput): StreamTilesRequest {
  const problems: string[] = [];
  if (!Array.isArray(input.tileSize) || input.tileSize.length !== 3) {
    problems.push(
      `tileSize is ${JSON.stringify(input.tileSize)}; give 3 sizes (s0, s1, s2), e.g. [16, 96, 96]`,
    );
  }
  const overlap =
    input.overlap === undefined
      ? []
      : typeof input.overlap === 'number'
        ? [input.overlap]
        : [...input.overlap];
  const splitPart = input.split === undefined ? undefined : SPLIT_PARTS[input.split.part];
  if (input.split !== undefined && splitPart === undefined) {
    problems.push(`split.part is ${input.split.part}; use 'all', 'train' or 'holdout'`);
  }
  const dtype = input.dtype ?? 'uint8';
  if (dtype !== 'uint8' && dtype !== 'float32') problems.push(`dtype is ${dtype}; use 'uint8' or 'float32'`);
  const request: StreamTilesRequest = {
    dataset: input.dataset ?? '',
    seriesUids: [...(input.seriesUids ?? [])],
    split:
      input.split === undefined
        ? undefined
        : { holdoutFraction: input.split.holdoutFraction, part: splitPart ?? SplitPart.SPLIT_PART_ALL },
    tileSize: (input.tileSize ?? []).map((size, axis) => uint32(size, `tileSize[${axis}]`, problems)),
    overlap,
    batchSize: uint32(input.batchSize ?? 1, 'batchSize', problems),
    dtype: dtype === 'float32' ? DType.DTYPE_FLOAT32 : DType.DTYPE_UINT8,
    includeMask: input.includeMask ?? false,
    padValue: input.padValue ?? 0,
    startSeries: uint32(input.startSeries ?? 0, 'startSeries', problems),
    startTile: uint53(input.startTile ?? 0, 'startTile', problems),
  };
  throwIfProblems(problems, 'tile request');
  return request;
}

function toCommon(input: CropInput, problems: string[]) {
  const seed = input.seed ?? 0;
  let wireSeed = 0n;
  if (typeof seed === 'bigint') {
    if (seed < 0n || BigInt.asUintN(64, seed) !== seed) problems.push(`seed is ${seed}; use 0..2^64-1`);
    else wireSeed = seed;
  } else {
    wireSeed = uint53(seed, 'seed', problems);
  }
  if (!Array.isArray(input.cropSize) || input.cropSize.length !== 3) {
    problems.push(
      `cropSize is ${JSON.stringify(input.cropSize)}; give 3 sizes (s0, s1, s2), e.g. [16, 96, 96]`,
    );
  }
  const splitPart = input.split === undefined ? undefined : SPLIT_PARTS[input.split.part];
  if (input.split !== undefined && splitPart === undefined) {
    problems.push(`split.part is ${input.split.part}; use 'all', 'train' or 'holdout'`);
  }
  const dtype = input.dtype ?? 'uint8';
  if (dtype !== 'uint8' && dtype !== 'float32') problems.push(`dtype is ${dtype}; use 'uint8' or 'float32'`);
  return {
    dataset: input.dataset ?? '',
    seed: wireSeed,
    epoch: uint32(input.epoch ?? 0, 'epoch', problems),
    cropSize: (input.cropSize ?? []).map((size, axis) => uint32(size, `cropSize[${axis}]`, problems)),
    // Unset fields are 0 on the wire, which the server reads as its documented defaults.
    sampling: input.sampling === undefined ? undefined : SamplingOptions.fromPartial(input.sampling),
    dtype: dtype === 'float32' ? DType.DTYPE_FLOAT32 : DType.DTYPE_UINT8,
    includeMask: input.includeMask ?? false,
    split:
      input.split === undefined
        ? undefined
        : { holdoutFraction: input.split.holdoutFraction, part: splitPart ?? SplitPart.SPLIT_PART_ALL },
  };
}

function uint32(value: number, field: string, problems: string[]): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    problems.push(`${field} is ${value}; use an integer from 0 to 4294967295`);
    return 0;
  }
  return value;
}

function uint53(value: number, field: string, problems: string[]): bigint {
  if (!Number.isSafeInteger(value) || value < 0) {
    problems.push(`${field} is ${value}; use a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`);
    return 0n;
  }
  return BigInt(value);
}

function throwIfProblems(problems: readonly string[], what: string): void {
  if (problems.length === 0) return;
  const details = problems.join('; ');
  throw new FeedError('INVALID_ARGUMENT', details, `invalid ${what}: ${details}`);
}

/** A rank's running totals for `reportTrainerStats`; see `TrainerStats` in the .proto. Unset numbers: 0. */
export interface TrainerStatsInput {
  job: string;
  rank: number;
  /** Default 1. */
  worldSize?: number;
  /** Steps done so far, across epochs. */
  step: number;
  gpuIdleSeconds?: number;
  stepSeconds?: number;
  dataWaitSeconds?: number;
  samples?: number;
  epoch?: number;
  loss?: number;
  /** e.g. 'tensorflow (GPU)', 'tensorflow', 'wasm', 'cpu'. */
  backend?: string;
}

export function toTrainerStats(input: TrainerStatsInput): TrainerStats {
  const problems: string[] = [];
  const stats: TrainerStats = {
    job: input.job,
    rank: uint32(input.rank, 'rank', problems),
    worldSize: uint32(input.worldSize ?? 1, 'worldSize', problems),
    step: uint53(input.step, 'step', problems),
    gpuIdleSeconds: input.gpuIdleSeconds ?? 0,
    stepSeconds: input.stepSeconds ?? 0,
    dataWaitSeconds: input.dataWaitSeconds ?? 0,
    samples: uint53(input.samples ?? 0, 'samples', problems),
    epoch: uint32(input.epoch ?? 0, 'epoch', problems),
    loss: input.loss ?? 0,
    backend: input.backend ?? '',
  };
  throwIfProblems(problems, 'trainer stats');
  return stats;
}
