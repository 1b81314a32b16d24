import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import type {
  Batch,
  DatasetInfo,
  GetSampleRequest,
  StreamBatchesRequest,
  VoxelFeedClient,
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
    ...request,
  };
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
