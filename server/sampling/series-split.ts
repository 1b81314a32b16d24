import { VoxelfeedError } from '../errors.js';
import type { SeriesSummary } from './types.js';
import { uidHashFraction } from './uid-hash.js';

export type SplitPart = 'all' | 'train' | 'holdout';

/** Which series an epoch draws from: all of them, or one side of a split by series uid. */
export interface SeriesSplit {
  readonly holdoutFraction: number;
  readonly part: SplitPart;
}

export const ALL_SERIES: SeriesSplit = { holdoutFraction: 0, part: 'all' };

/**
 * Whether a series is held out: the well-mixed 64-bit hash of its uid (`uidHashFraction`), read as a fraction
 * of 1, below `holdoutFraction`. It depends on the uid alone, so the split is the same for every seed, replica
 * and catalog order, a series never moves between parts when others are added, and a series held out at one
 * fraction stays held out at any larger one.
 */
export function isHeldOut(uid: string, holdoutFraction: number): boolean {
  return uidHashFraction(uid) < holdoutFraction;
}

/** The ascending catalog indices of the series in `split`'s part. */
export function eligibleSeries(series: readonly SeriesSummary[], split: SeriesSplit): number[] {
  const indices: number[] = [];
  series.forEach((entry, index) => {
    if (split.part === 'all') indices.push(index);
    else if (isHeldOut(entry.uid, split.holdoutFraction) === (split.part === 'holdout')) indices.push(index);
  });
  return indices;
}

/** Checks a wire split; unset means every series. */
export function resolveSeriesSplit(
  split: { holdoutFraction: number; part: 'all' | 'train' | 'holdout' | 'invalid' } | undefined,
): SeriesSplit {
  if (split === undefined || split.part === 'all') return ALL_SERIES;
  const problems: string[] = [];
  if (split.part === 'invalid')
    problems.push('split.part is not one of SPLIT_PART_ALL, SPLIT_PART_TRAIN, SPLIT_PART_HOLDOUT');
  if (!Number.isFinite(split.holdoutFraction) || split.holdoutFraction <= 0 || split.holdoutFraction >= 1) {
    problems.push(
      `split.holdout_fraction is ${split.holdoutFraction}; a train or holdout part needs a fraction between 0 and 1, e.g. 0.2`,
    );
  }
  if (problems.length > 0) throw new VoxelfeedError('INVALID_ARGUMENT', problems.join('; '));
  return { holdoutFraction: split.holdoutFraction, part: split.part as SplitPart };
}
