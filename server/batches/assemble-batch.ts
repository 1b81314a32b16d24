import { type AugmentationInfo, DType, type SampleInfo, CropMode as WireCropMode } from '@voxelfeed/proto';
import { isVoxelfeedError, VoxelfeedError } from '../errors.js';
import {
  AugmentScratch,
  applySpatialAugmentation,
  augmentUint8Crop,
  isIntensity,
  isSpatial,
  writeAugmentedFloat32,
} from '../sampling/apply-augmentation.js';
import { countCropForeground } from '../sampling/count-crop-foreground.js';
import { cropHasForeground } from '../sampling/crop-has-foreground.js';
import type { EpochPlan } from '../sampling/epoch-plan.js';
import { extractCrop } from '../sampling/extract-crop.js';
import { writeFloat32LE } from '../sampling/float-tensor.js';
import { planSample, type SampleContext, sampleNeedsMask } from '../sampling/plan-sample.js';
import type { AugmentParams, CropMode, CropParams, Volume } from '../sampling/types.js';
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
  background: WireCropMode.CROP_MODE_BACKGROUND,
  label: WireCropMode.CROP_MODE_LABEL,
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
): Promise<{ batch: EncodedBatch; timings: BatchTimings; backgroundMisses: number }> {
  const { request, plan, signal, buffers } = context;
  const sampling: SampleContext = {
    plan,
    series: request.dataset.catalog.series,
    policy: request.policy,
    seed: request.seed,
    epoch: request.epoch,
    cropSize: request.cropSize,
    ...('batchSize' in request && typeof request.batchSize === 'number'
      ? { batchSize: request.batchSize }
      : {}),
  };
  const params = await planSamples(request, sampling, positions, signal);
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
  let scratch: AugmentScratch | undefined;
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
      const offset = slot * voxels;
      extractCrop(
        volume,
        {
          origin: sample.origin,
          size: sample.size,
          padValue,
          keepLabels: request.policy.keepLabels === true,
        },
        { image: voxelTarget, mask: maskTarget, offset },
      );
      foreground[slot] = countCropForeground(volume, sample.origin, sample.size);
      const augment = sample.augment;
      if (augment === undefined) return;
      scratch ??= new AugmentScratch(voxels);
      // Most crops' masks are all zeros, which no mirror or turn changes.
      if (
        maskTarget !== null &&
        isSpatial(augment) &&
        cropHasForeground(volume, sample.origin, sample.size)
      ) {
        applySpatialAugmentation(augment, sample.size, maskTarget, offset, scratch);
      }
      // float32 images are transformed as they are widened, after every cut.
      if (request.dtype === 'uint8' && (isSpatial(augment) || isIntensity(augment))) {
        augmentUint8Crop(augment, sample.size, voxelTarget, offset, scratch);
      }
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
  if (voxelTarget !== batch.image) widenFloat32(params, voxelTarget, batch.image, voxels, scratch);
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
    backgroundMisses: params.filter((sample) => sample.background?.missed === true).length,
  };
}

/**
 * Every sample's crop parameters. Negatives that avoid foreground draw against their series' mask: those
 * series are loaded first, one at a time (the cut loads them again, from the cache), and dropped once their
 * samples are planned.
 */
async function planSamples(
  request: CropRequest,
  sampling: SampleContext,
  positions: readonly number[],
  signal: AbortSignal | undefined,
): Promise<CropParams[]> {
  if (request.policy.backgroundMaxDraws === undefined && request.policy.labelRatios === undefined) {
    return positions.map((position) => planSample(sampling, position));
  }
  const needs = positions.map((position) => sampleNeedsMask(sampling, position));
  const params = positions.map((position, slot) =>
    needs[slot] ? undefined : planSample(sampling, position),
  );
  const pending = new Map<number, number[]>();
  positions.forEach((position, slot) => {
    if (!needs[slot]) return;
    const series = planSample(sampling, position, undefined, true).series;
    pending.set(series, [...(pending.get(series) ?? []), slot]);
  });
  for (const [series, slots] of pending) {
    const volume = await loadVolume(request.dataset, series);
    if (signal?.aborted) throw signal.reason;
    for (const slot of slots) params[slot] = planSample(sampling, positions[slot]!, () => volume);
  }
  return params.map((sample) => sample!);
}

/**
 * float32 crops from the bytes cut into the last quarter of the image field, front to back: v / 255, or the
 * sample's transforms where it has some (each sample's bytes copied aside first, as a transformed crop reads
 * them out of order).
 */
function widenFloat32(
  params: readonly CropParams[],
  bytes: Uint8Array,
  image: Uint8Array,
  voxels: number,
  scratch: AugmentScratch | undefined,
): void {
  const augmented = (sample: CropParams) =>
    sample.augment !== undefined && (isSpatial(sample.augment) || isIntensity(sample.augment));
  if (!params.some(augmented)) {
    writeFloat32LE(bytes, image);
    return;
  }
  if (!PLATFORM_IS_LITTLE_ENDIAN || image.byteOffset % 4 !== 0) {
    throw new VoxelfeedError(
      'INTERNAL',
      'augmented float32 crops need a little-endian host and an aligned image',
    );
  }
  const aside = scratch ?? new AugmentScratch(voxels);
  params.forEach((sample, slot) => {
    const source = bytes.subarray(slot * voxels, (slot + 1) * voxels);
    const target = image.subarray(slot * voxels * 4, (slot + 1) * voxels * 4);
    if (sample.augment !== undefined && augmented(sample)) {
      const floats = new Float32Array(target.buffer, target.byteOffset, voxels);
      writeAugmentedFloat32(sample.augment, sample.size, source, floats, aside);
    } else {
      writeFloat32LE(source, target);
    }
  });
}

const PLATFORM_IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function augmentationInfo(augment: AugmentParams): AugmentationInfo {
  return {
    flippedAxes: [0, 1, 2].filter((axis) => augment.flip[axis]),
    rotate90: augment.rotate90,
    gamma: augment.gamma,
    scale: augment.scale,
    shift: augment.shift,
    noiseStd: augment.noiseStd,
    noiseSeed: augment.noiseStd === undefined ? 0 : augment.noiseSeed,
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
    augmentation: sample.augment === undefined ? undefined : augmentationInfo(sample.augment),
    backgroundDraws: sample.background?.draws ?? 0,
    backgroundMissed: sample.background?.missed ?? false,
    label: sample.label ?? 0,
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
