import type { LoadedSeriesVolume } from '../dataset/loading/load-series-volume.js';
import type { CropParams, MaskBox, Shape3, Volume } from '../sampling/types.js';
import type { WorkerError } from './worker-error.js';

/**
 * A decoded volume as a worker gets it: its arrays in shared memory (posted, not copied), with what the cuts
 * read besides the voxels (the mask's box, the labels present) and not the label index, which only planning uses.
 */
export interface SharedVolume {
  readonly shape: Shape3;
  readonly image: Uint8Array;
  readonly mask: Uint8Array;
  readonly maskBox: MaskBox | null | undefined;
  readonly labels: readonly number[] | undefined;
}

/** A byte range of a batch's shared buffer. */
export interface SharedRange {
  readonly byteOffset: number;
  readonly byteLength: number;
}

/** One series' crops of a batch and the slots they go to. */
export interface CutPart {
  readonly volume: SharedVolume;
  readonly samples: readonly CropParams[];
  readonly slots: readonly number[];
}

/** Cut some series' crops of a batch into the batch's buffer (cutSeriesCrops, per part). */
export interface CutTask {
  readonly kind: 'cut';
  readonly parts: readonly CutPart[];
  readonly buffer: SharedArrayBuffer;
  readonly image: SharedRange;
  /** null: no mask wanted. */
  readonly mask: SharedRange | null;
  readonly voxels: number;
  readonly dtype: 'uint8' | 'float32';
  readonly padValue: number;
  readonly keepLabels: boolean;
}

/** Read and decode a series' image and mask into shared memory (loadSeriesVolume). */
export interface LoadTask {
  readonly kind: 'load';
  readonly imagePath: string;
  readonly maskPath: string;
}

export type WorkerTask = CutTask | LoadTask;

/** What a worker posts once its code is loaded, with its thread id (CropWorkers waits for it). */
export const WORKER_LOADED = 'voxelfeed-crop-worker-loaded';

export interface WorkerLoadedMessage {
  readonly kind: typeof WORKER_LOADED;
  readonly threadId: number;
}

export function isWorkerLoadedMessage(message: unknown): message is WorkerLoadedMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { kind?: unknown }).kind === WORKER_LOADED &&
    typeof (message as { threadId?: unknown }).threadId === 'number'
  );
}

/** What a task answers; an error travels as data so its code survives (worker-error.ts). */
export type WorkerAnswer<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: WorkerError };

/** Per part, the foreground voxels of each crop. */
export type CutAnswer = WorkerAnswer<number[][]>;
export type LoadAnswer = WorkerAnswer<LoadedSeriesVolume>;

/** The volume as `SharedVolume`, or null when its arrays are not in shared memory (a worker would get copies). */
export function toSharedVolume(volume: Volume): SharedVolume | null {
  if (
    !(volume.image.buffer instanceof SharedArrayBuffer && volume.mask.buffer instanceof SharedArrayBuffer)
  ) {
    return null;
  }
  return {
    shape: volume.shape,
    image: volume.image,
    mask: volume.mask,
    maskBox: volume.maskBox,
    labels: volume.labelIndex?.labels,
  };
}

/** The Volume the sampling functions take, from what a worker got. */
export function fromSharedVolume(shared: SharedVolume): Volume {
  return {
    shape: shared.shape,
    image: shared.image,
    mask: shared.mask,
    ...(shared.maskBox === undefined ? {} : { maskBox: shared.maskBox }),
    ...(shared.labels === undefined ? {} : { labelIndex: { labels: shared.labels, cumulative: new Map() } }),
  };
}
