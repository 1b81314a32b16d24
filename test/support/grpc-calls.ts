import assert from 'node:assert/strict';
import { type ClientReadableStream, type ServiceError, status } from '@grpc/grpc-js';
import {
  type Batch,
  type DatasetInfo,
  type GetSampleRequest,
  SamplingOptions,
  type StreamBatchesRequest,
  type VoxelFeedClient,
} from '../../gen/voxelfeed/v1/voxelfeed.js';

/** Reads a whole stream into memory; rejects with the stream's ServiceError if it ends with one. */
export function collectStream(stream: ClientReadableStream<Batch>): Promise<Batch[]> {
  return new Promise((resolve, reject) => {
    const batches: Batch[] = [];
    stream.on('data', (batch: Batch) => batches.push(batch));
    stream.on('error', reject);
    stream.on('end', () => resolve(batches));
  });
}

export function streamAll(client: VoxelFeedClient, request: Partial<StreamBatchesRequest>): Promise<Batch[]> {
  return collectStream(client.streamBatches(baseStreamRequest(request)));
}

export function baseStreamRequest(request: Partial<StreamBatchesRequest>): StreamBatchesRequest {
  return {
    dataset: '',
    seed: 1n,
    epoch: 0,
    rank: 0,
    worldSize: 1,
    rankGroups: 0,
    batchSize: 4,
    cropSize: [8, 16, 16],
    sampling: undefined,
    dtype: 0,
    includeMask: true,
    startStep: 0n,
    maxSteps: 0n,
    split: undefined,
    stepStride: 0,
    sharedMemory: undefined,
    ...request,
  };
}

/**
 * An epoch far longer than any test reads: 4000 negatives in batches of 4 (1000 steps), with every
 * probability zero (the server's defaults) so that only negatives are drawn.
 */
export function longEpoch(cropSize: readonly number[] = [8, 16, 16]): Partial<StreamBatchesRequest> {
  return {
    seed: 1n,
    batchSize: 4,
    cropSize: [...cropSize],
    sampling: SamplingOptions.fromPartial({ samplesPerNodule: 1, negativesPerEpoch: 4000 }),
  };
}

/**
 * A predicate for `assert.rejects`: the call failed with gRPC status `code`, and its details hold every one
 * of `fragments` (the value, the limit, the fix a message should name).
 */
export function isStatus(code: status, ...fragments: readonly string[]) {
  return (error: unknown): true => {
    const { code: actual, details } = error as ServiceError;
    assert.equal(actual, code, `expected ${status[code]}, got ${status[actual]}: ${details}`);
    for (const fragment of fragments)
      assert.ok(details.includes(fragment), `"${details}" lacks "${fragment}"`);
    return true;
  };
}

export async function rejectsWithStatus(
  call: Promise<unknown>,
  code: status,
  fragments: readonly string[] = [],
): Promise<void> {
  await assert.rejects(call, isStatus(code, ...fragments));
}

export function getSample(client: VoxelFeedClient, request: Partial<GetSampleRequest>): Promise<Batch> {
  const full: GetSampleRequest = {
    dataset: '',
    seed: 1n,
    epoch: 0,
    index: 0n,
    cropSize: [8, 16, 16],
    sampling: undefined,
    dtype: 0,
    includeMask: true,
    split: undefined,
    ...request,
  };
  return new Promise((resolve, reject) => {
    client.getSample(full, (error: ServiceError | null, batch?: Batch) =>
      error ? reject(error) : resolve(batch!),
    );
  });
}

export function getDatasetInfo(client: VoxelFeedClient, dataset = ''): Promise<DatasetInfo> {
  return new Promise((resolve, reject) => {
    client.getDatasetInfo({ dataset }, (error: ServiceError | null, info?: DatasetInfo) =>
      error ? reject(error) : resolve(info!),
    );
  });
}

/** The bytes of sample `slot` of a batch's image (or mask) tensor. */
export function sampleSlice(batch: Batch, tensor: 'image' | 'mask', slot: number): Buffer {
  const [b = 0, s0 = 0, s1 = 0, s2 = 0] = batch.shape;
  const voxels = s0 * s1 * s2;
  const bytesPerVoxel = tensor === 'mask' || batch.dtype !== 2 ? 1 : 4;
  const data = batch[tensor];
  if (data.length !== b * voxels * bytesPerVoxel)
    throw new Error(`tensor ${tensor} has ${data.length} bytes`);
  return data.subarray(slot * voxels * bytesPerVoxel, (slot + 1) * voxels * bytesPerVoxel);
}
