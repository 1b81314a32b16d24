import {
  DType,
  type GetSampleRequest,
  SamplingOptions,
  type StreamBatchesRequest,
} from '../../gen/voxelfeed/v1/voxelfeed.js';
import type { LoadOptions } from './load-options.js';

/**
 * GetSample calls cycle over this many plan positions (ghz sends its data array round robin the same way),
 * so a run touches several series rather than one cached crop.
 */
export const SAMPLE_INDEXES = 8;
/** Negatives per epoch for GetSample: every index below SAMPLE_INDEXES exists on any data set. */
const SAMPLE_NEGATIVES = 64;
const SEED = 1n;

/** The GetSample requests a run cycles over; call i sends request i mod SAMPLE_INDEXES. */
export function sampleRequests(options: LoadOptions): GetSampleRequest[] {
  return Array.from({ length: SAMPLE_INDEXES }, (_, index) => ({
    dataset: options.dataset,
    seed: SEED,
    epoch: 0,
    index: BigInt(index),
    cropSize: [...options.crop],
    sampling: SamplingOptions.fromPartial({ negativesPerEpoch: SAMPLE_NEGATIVES }),
    dtype: DType.DTYPE_UINT8,
    includeMask: true,
    split: undefined,
  }));
}

/**
 * The request of every stream-batches call: `steps` batches of `batchSize`. It asks for steps x batchSize
 * negatives, so the epoch has at least `steps` batches on any data set and every call streams exactly that.
 */
export function streamRequest(options: LoadOptions): StreamBatchesRequest {
  return {
    dataset: options.dataset,
    seed: SEED,
    epoch: 0,
    rank: 0,
    worldSize: 1,
    rankGroups: 1,
    batchSize: options.batchSize,
    cropSize: [...options.crop],
    sampling: SamplingOptions.fromPartial({ negativesPerEpoch: options.steps * options.batchSize }),
    dtype: DType.DTYPE_UINT8,
    includeMask: true,
    startStep: 0n,
    maxSteps: BigInt(options.steps),
    split: undefined,
    stepStride: 1,
    sharedMemory: undefined,
  };
}

/**
 * The same requests as protobuf JSON, as ghz's --data takes them (lowerCamelCase names, enums by name, 64-bit
 * integers as strings): one object for a stream, an array that ghz sends round robin for GetSample.
 */
export function ghzCallData(options: LoadOptions): object {
  const common = (request: GetSampleRequest | StreamBatchesRequest) => ({
    ...(request.dataset === '' ? {} : { dataset: request.dataset }),
    seed: String(request.seed),
    epoch: request.epoch,
    cropSize: request.cropSize,
    sampling: { negativesPerEpoch: request.sampling?.negativesPerEpoch ?? 0 },
    dtype: DType[request.dtype],
    includeMask: request.includeMask,
  });
  if (options.call === 'get-sample') {
    return sampleRequests(options).map((request) => ({ ...common(request), index: String(request.index) }));
  }
  const request = streamRequest(options);
  return {
    ...common(request),
    rank: request.rank,
    worldSize: request.worldSize,
    batchSize: request.batchSize,
    maxSteps: String(request.maxSteps),
  };
}
