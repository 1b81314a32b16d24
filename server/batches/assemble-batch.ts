import { type AugmentationInfo, DType, type SampleInfo, CropMode as WireCropMode } from '@voxelfeed/proto';
import { isVoxelfeedError, VoxelfeedError } from '../errors.js';
import type { EpochPlan } from '../sampling/epoch-plan.js';
import { planSample, type SampleContext, sampleNeedsMask } from '../sampling/plan-sample.js';
import type { AugmentParams, CropMode, CropParams, Volume } from '../sampling/types.js';
import { type CropTargets, cutSeriesCrops } from '../workers/cut-series-crops.js';
import { type SharedRange, toSharedVolume } from '../workers/worker-tasks.js';
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
  /**
   * Where the client's gRPC library puts the message in its receive buffer (call-landing.ts), so a float32
   * image is aligned there; absent: 0 (grpcio and most libraries).
   */
  readonly imageLanding?: number | undefined;
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
  const { request, plan, signal, buffers, imageLanding } = context;
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
  const layout = layOutEncodedBatch(fields(params.map(() => voxels)), imageBytes, maskBytes, imageLanding);
  const foreground = params.map(() => 0);
  const layoutSeconds = (performance.now() - layoutStarted) / 1000;
  // Waiting for batch memory is the server's backpressure, not a stage of the batch: it is left out.
  const workers = request.dataset.workers;
  const backing = buffers
    ? await buffers.acquire(layout.backingBytes, signal)
    : workers === undefined
      ? Buffer.allocUnsafeSlow(layout.backingBytes)
      : Buffer.from(new SharedArrayBuffer(layout.backingBytes));
  const started = performance.now();
  const batch = writeEncodedBatch(layout, backing);
  const encodeSeconds = layoutSeconds + (performance.now() - started) / 1000;

  const maskTarget = request.includeMask ? batch.mask : null;
  const targets: CropTargets = {
    image: batch.image,
    mask: maskTarget,
    voxels,
    dtype: request.dtype,
    padValue: request.policy.padValue,
    keepLabels: request.policy.keepLabels === true,
  };
  // With crop workers, the buffer in shared memory, they cut into it in place; otherwise this thread does.
  const shared =
    workers !== undefined && batch.backing.buffer instanceof SharedArrayBuffer ? batch.backing.buffer : null;
  let cropSeconds = 0;
  // Each series' crops are cut as soon as its volume arrives, and the batch keeps no volume: a batch waiting
  // for its last volume holds none of the others, so the volumes alive beside the cache are the ones being
  // loaded (at most the cache's maxConcurrentLoads), whatever the number of streams and batches in progress.
  // Series already cached go to the workers together, in one task per idle thread (cutGroups), as a task
  // costs about as much as cutting two small crops.
  const cutGroup = async (group: readonly number[]) => {
    const volumes = await Promise.all(group.map((series) => loadVolume(request.dataset, series)));
    if (signal?.aborted) return;
    const cropStarted = performance.now();
    const parts = volumes.map((volume, at) => {
      const slots = params.flatMap((sample, slot) => (sample.series === group[at] ? [slot] : []));
      return { volume, slots, samples: slots.map((slot) => params[slot]!) };
    });
    const sharedParts = parts.map(({ volume, slots, samples }) => {
      const sharedVolume = toSharedVolume(volume);
      return sharedVolume === null ? null : { volume: sharedVolume, slots, samples };
    });
    const counts =
      shared !== null && workers !== undefined && sharedParts.every((part) => part !== null)
        ? await workers.cut({
            parts: sharedParts.map((part) => part!),
            buffer: shared,
            image: rangeOf(batch.image),
            mask: maskTarget === null ? null : rangeOf(maskTarget),
            voxels,
            dtype: targets.dtype,
            padValue: targets.padValue,
            keepLabels: targets.keepLabels,
          })
        : parts.map(({ volume, samples, slots }) => cutSeriesCrops(volume, samples, slots, targets));
    parts.forEach(({ slots }, part) => {
      counts[part]!.forEach((count, at) => {
        foreground[slots[at]!] = count;
      });
    });
    cropSeconds += (performance.now() - cropStarted) / 1000;
  };
  // Every cut settles before the buffer can go back to batch memory: a late one must not write into a buffer
  // that another batch has taken meanwhile.
  const cuts = await Promise.allSettled(
    cutGroups(
      [...new Set(params.map((sample) => sample.series))],
      request.dataset,
      shared === null || workers === undefined ? null : workers.idleThreads,
    ).map(cutGroup),
  );
  const failed = cuts.find((cut) => cut.status === 'rejected');
  if (failed !== undefined || signal?.aborted) {
    buffers?.release(batch.backing);
    throw failed !== undefined ? failed.reason : signal?.reason;
  }
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
 * The groups of series whose crops are cut together. On the main thread (`idleThreads` null), one per series.
 * With crop workers, the cached series go in one task per idle thread (at least one task): a batch is split
 * only where threads would otherwise wait, because every task costs a hand-over (about 100 us of CPU on the
 * 2-core test machine, as much as two uint8 crops), while streams that prepare batches ahead, or several
 * streams, keep the threads busy with whole batches. A series still loading is a group of its own, cut when its
 * volume arrives. Measured on 2 cores, one stream, 2 threads: one task per batch gave 1,677-1,853 batches/s at
 * 902-986 us of CPU each, against 1,620-1,791 at 949-1,018 us for one task per thread (float32: 1,191-1,283
 * against 1,066-1,108).
 */
function cutGroups(
  series: readonly number[],
  dataset: ServedDataset,
  idleThreads: number | null,
): number[][] {
  if (idleThreads === null) return series.map((index) => [index]);
  const cached = series.filter((index) => dataset.cache.has(index));
  const groups = Array.from(
    { length: Math.min(Math.max(1, idleThreads), cached.length) },
    () => [] as number[],
  );
  cached.forEach((index, at) => {
    groups[at % groups.length]!.push(index);
  });
  return [...groups, ...series.filter((index) => !dataset.cache.has(index)).map((index) => [index])];
}

/** Where a view lies in its (shared) buffer. */
function rangeOf(view: Uint8Array): SharedRange {
  return { byteOffset: view.byteOffset, byteLength: view.byteLength };
}

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
