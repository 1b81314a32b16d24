import { DType, type SampleInfo, CropMode as WireCropMode } from '@voxelfeed/proto';
import { isVoxelfeedError, VoxelfeedError } from '../errors.js';
import { countCropForeground } from '../sampling/count-crop-foreground.js';
import type { EpochPlan } from '../sampling/epoch-plan.js';
import { extractCrop } from '../sampling/extract-crop.js';
import { writeFloat32LE } from '../sampling/float-tensor.js';
import { planSample } from '../sampling/plan-sample.js';
import type { CropMode, CropParams, Volume } from '../sampling/types.js';
import type { BatchBuffers } from './batch-memory.js';
import type { CropRequest } from './crop-request.js';
import {
  type EncodedBatch,
  finishEncodedBatch,
  layOutEncodedBatch,
  writeEncodedBatch,
} from './encoded-batch.js';
import type { ServedDataset } from './served-dataset.js';

export interface BatchHeader {
  readonly step: number;
  readonly stepsInEpoch: number;
  readonly rank: number;
  readonly worldSize: number;
}

/** Seconds spent per stage, for the loader latency metrics. */
export interface BatchTimings {
  /** Waiting for volumes (cache hit: ~0; miss: read + decode). */
  waitVolumes: number;
  crop: number;
  encode: number;
}

const WIRE_MODE: Record<CropMode, WireCropMode> = {
  jitter: WireCropMode.CROP_MODE_JITTER,
  negative: WireCropMode.CROP_MODE_NEGATIVE,
  center: WireCropMode.CROP_MODE_CENTER,
};

/** What the batches of one stream (or one GetSample call) share. */
export interface AssembleContext {
  readonly request: CropRequest;
  readonly plan: EpochPlan;
  /** Stops the batch (its wait for memory, its cuts); it then rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
  /** Where the batch's buffer comes from; absent: a buffer of its own. */
  readonly buffers?: BatchBuffers | undefined;
}

/**
 * Builds one batch for the given plan positions: draws every sample's crop parameters (pure), takes a buffer
 * for the encoded message from `buffers` (waiting for batch memory; without: a buffer of its own), asks the cache for each distinct series once and cuts that series' crops straight into the
 * message as its volume arrives. The result depends only on the request and the positions, never on cache state or timing.
 */
export async function assembleBatch(
  context: AssembleContext,
  positions: readonly number[],
  header: BatchHeader,
): Promise<{ batch: EncodedBatch; timings: BatchTimings }> {
  const { request, plan, signal, buffers } = context;
  const sampling = {
    plan,
    series: request.dataset.catalog.series,
    policy: request.policy,
    seed: request.seed,
    epoch: request.epoch,
    cropSize: request.cropSize,
  };
  const params = positions.map((position) => planSample(sampling, position));
  const voxels = request.cropSize[0] * request.cropSize[1] * request.cropSize[2];
  const batchSize = positions.length;
  const imageBytes = batchSize * voxels * (request.dtype === 'float32' ? 4 : 1);
  const maskBytes = request.includeMask ? batchSize * voxels : 0;
  const layoutStarted = performance.now();
  const fields = (foreground: readonly number[]) => ({
    epoch: request.epoch,
    step: BigInt(header.step),
    stepsInEpoch: BigInt(header.stepsInEpoch),
    shape: [batchSize, ...request.cropSize],
    dtype: request.dtype === 'float32' ? DType.DTYPE_FLOAT32 : DType.DTYPE_UINT8,
    samples: params.map((sample, slot) => sampleInfo(request, sample, foreground[slot] ?? 0)),
    rank: header.rank,
    worldSize: header.worldSize,
  });
  // Foreground counts are known only once the volumes arrive, after the buffer is taken: the layout is sized
  // for the longest they can be (every voxel), and the fields after the tensors are written once they are cut.
  const layout = layOutEncodedBatch(fields(params.map(() => voxels)), imageBytes, maskBytes);
  const foreground = params.map(() => 0);
  const layoutSeconds = (performance.now() - layoutStarted) / 1000;
  // Waiting for batch memory is the server's backpressure, not a stage of the batch: it is left out.
  const backing = buffers
    ? await buffers.acquire(layout.backingBytes, signal)
    : Buffer.allocUnsafeSlow(layout.backingBytes);
  const started = performance.now();
  const batch = writeEncodedBatch(layout, backing);
  const encodeSeconds = layoutSeconds + (performance.now() - started) / 1000;

  // float32 crops are cut as bytes into the last quarter of the image field, then widened in place from the
  // front: float i (bytes 4i..4i+3) never reaches a voxel byte (at 3n + j, j >= i) that is still to be read.
  const voxelTarget =
    request.dtype === 'float32' ? batch.image.subarray(3 * batchSize * voxels) : batch.image;
  const maskTarget = request.includeMask ? batch.mask : null;
  const padValue = request.policy.padValue;
  let cropSeconds = 0;
  // Each series' crops are cut as soon as its volume arrives, and the batch keeps no volume: a batch waiting
  // for its last volume holds none of the others, so the volumes alive beside the cache are the ones being
  // loaded (at most the cache's maxConcurrentLoads), whatever the number of streams and batches in progress.
  const cutFrom = async (seriesIndex: number) => {
    const volume = await loadVolume(request.dataset, seriesIndex);
    if (signal?.aborted) return;
    const cropStarted = performance.now();
    params.forEach((sample, slot) => {
      if (sample.series !== seriesIndex) return;
      extractCrop(
        volume,
        { origin: sample.origin, size: sample.size, padValue },
        { image: voxelTarget, mask: maskTarget, offset: slot * voxels },
      );
      foreground[slot] = countCropForeground(volume, sample.origin, sample.size);
    });
    cropSeconds += (performance.now() - cropStarted) / 1000;
  };
  // Every cut settles before the buffer can go back to batch memory: a late one must not write into a buffer
  // that another batch has taken meanwhile.
  const cuts = await Promise.allSettled([...new Set(params.map((sample) => sample.series))].map(cutFrom));
  const failed = cuts.find((cut) => cut.status === 'rejected');
  if (failed !== undefined || signal?.aborted) {
    buffers?.release(batch.backing);
    throw failed !== undefined ? failed.reason : signal?.reason;
  }
  const widenStarted = performance.now();
  if (voxelTarget !== batch.image) writeFloat32LE(voxelTarget, batch.image);
  cropSeconds += (performance.now() - widenStarted) / 1000;
  const finishStarted = performance.now();
  const finished = finishEncodedBatch(layout, batch.backing, fields(foreground));
  const finishSeconds = (performance.now() - finishStarted) / 1000;
  const encodedSeconds = encodeSeconds + finishSeconds;
  const totalSeconds = (performance.now() - started) / 1000;
  return {
    batch: finished,
    timings: {
      waitVolumes: Math.max(0, totalSeconds - cropSeconds - encodedSeconds),
      crop: cropSeconds,
      encode: encodedSeconds,
    },
  };
}

function sampleInfo(request: CropRequest, sample: CropParams, foregroundVoxels: number): SampleInfo {
  const series = request.dataset.catalog.series[sample.series]!;
  const nodule = sample.nodule >= 0 ? series.nodules[sample.nodule] : undefined;
  return {
    index: BigInt(sample.index),
    seriesUid: series.uid,
    mode: WIRE_MODE[sample.mode],
    origin: [...sample.origin],
    nodule: sample.nodule,
    noduleCenter: nodule ? [...nodule.center] : [],
    noduleDiameter: nodule ? nodule.diameter : 0,
    item: BigInt(sample.item),
    foregroundVoxels: BigInt(foregroundVoxels),
  };
}

/** A series' volume from the data set's cache; a series that cannot be read is DATA_LOSS naming it. */
export async function loadVolume(dataset: ServedDataset, seriesIndex: number): Promise<Volume> {
  const series = dataset.catalog.series[seriesIndex]!;
  try {
    return await dataset.cache.get(seriesIndex);
  } catch (error) {
    if (isVoxelfeedError(error) && error.code !== 'DATA_LOSS') throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new VoxelfeedError('DATA_LOSS', `series ${series.uid} cannot be read: ${detail}`, { cause: error });
  }
}
