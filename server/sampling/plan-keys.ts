import { VoxelfeedError } from '../errors.js';
import { RngPurpose, toWords } from './rng.js';

/**
 * The rng key of every random stream of an epoch plan, in one place. Changing any layout here changes
 * every served batch, so each layout is fixed by the determinism contract (docs/determinism.md).
 * Keys are uint32 words: the seed (two words), the epoch (one word), then an index and the purpose.
 */

const MAX_UINT32 = 0xffff_ffff;

/** The epoch is one key word: an integer 0..2^32-1 (the wire type is uint32). */
export function checkEpoch(epoch: number): void {
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > MAX_UINT32) {
    throw new VoxelfeedError('INVALID_ARGUMENT', `epoch is ${epoch}; expected an integer 0..${MAX_UINT32}`);
  }
}

/** A plan position is two key words; positions stay exact numbers, so up to 2^53-1. */
export function checkPosition(position: number): void {
  if (!Number.isSafeInteger(position) || position < 0) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `sample index ${position} is not an integer 0..${Number.MAX_SAFE_INTEGER}; lower the index or the step`,
    );
  }
}

/** The one stream that shuffles epoch `epoch`. */
export function permutationKey(seed: bigint, epoch: number): number[] {
  return [...toWords(seed), epoch, RngPurpose.permutation];
}

/** The stream that picks the series of negative item `j` (a uint32 below the negatives limit). */
export function negativeSeriesKey(seed: bigint, epoch: number, j: number): number[] {
  return [...toWords(seed), epoch, j, RngPurpose.negativeSeries];
}

/** The stream of every draw of the sample at plan position `position`: mode first, then origin axes 0, 1, 2. */
export function sampleKey(seed: bigint, epoch: number, position: number): number[] {
  return [...toWords(seed), epoch, ...toWords(position), RngPurpose.sample];
}

/** The stream that orders the series of a windowed epoch (cache-aware shuffle). */
export function seriesOrderKey(seed: bigint, epoch: number): number[] {
  return [...toWords(seed), epoch, RngPurpose.seriesOrder];
}

/** The stream that shuffles the items of window `window` of a windowed epoch. */
export function windowShuffleKey(seed: bigint, epoch: number, window: number): number[] {
  return [...toWords(seed), epoch, window, RngPurpose.windowShuffle];
}

/**
 * The transforms of augmentation, each with a stream of its own, so enabling one never changes another's
 * draws. The numbers are part of the key layout: a new transform takes a new number.
 */
export const AugmentTransform = {
  flip: 0,
  rotate90: 1,
  gamma: 2,
  scale: 3,
  shift: 4,
  noise: 5,
} as const;
export type AugmentTransform = (typeof AugmentTransform)[keyof typeof AugmentTransform];

/** The stream of one transform of the sample at plan position `position`. */
export function augmentKey(
  seed: bigint,
  epoch: number,
  position: number,
  transform: AugmentTransform,
): number[] {
  return [...toWords(seed), epoch, ...toWords(position), transform, RngPurpose.augmentation];
}

/** The stream that picks the nodule item of a negative item in a slot the foreground share forces. */
export function foregroundItemKey(seed: bigint, epoch: number, position: number): number[] {
  return [...toWords(seed), epoch, ...toWords(position), RngPurpose.foregroundItem];
}
