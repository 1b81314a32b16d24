import { VoxelfeedError } from '../errors.js';
import { checkEpoch, negativeSeriesKey } from './plan-keys.js';
import { createRng } from './rng.js';
import type { PlanItem, SamplingPolicy, SeriesSummary } from './types.js';

/**
 * The items of one epoch before shuffling, in their fixed order: for each eligible series in catalog order,
 * each of its nodules `samplesPerNodule` times; then `negativesPerEpoch` negatives (nodule -1). Negative j's
 * series is drawn uniformly over the eligible series from its own stream keyed by (seed, epoch, j), so it
 * depends on no other item. Series without nodules appear only through negatives. Item series indices always
 * refer to the whole catalog, also when `eligible` restricts the epoch to a part of it (a split).
 *
 * Nothing is stored per item: a nodule item is found from its index through the first item of each series'
 * run of nodule items (a binary search over the series with nodules), a negative by drawing its series again.
 * The tables take 4 bytes per eligible series and 8 per series with nodules, whatever the epoch's size.
 */
export interface EpochItems {
  /** Items in the epoch (n): nodule items first, then negatives. */
  readonly size: number;
  /** Items [0, noduleItems) are nodule items, [noduleItems, size) negatives. */
  readonly noduleItems: number;
  readonly samplesPerNodule: number;
  /**
   * The series of the nodule runs, in catalog order: run r holds items [runStart[r], runStart[r + 1]) of
   * series runSeries[r] (its nodules in order, each `samplesPerNodule` times). runStart ends with noduleItems.
   */
  readonly runSeries: Uint32Array;
  readonly runStart: Uint32Array;
  /** Bytes of the tables above and the eligible list. */
  readonly bytes: number;
  /** Item `index` (0..size-1). */
  item(index: number): PlanItem;
  /** The catalog index of item `index`'s series; a negative's costs one generator, a nodule's a search. */
  seriesOf(index: number): number;
}

/** What one epoch's items (and its plan) are a function of. */
export interface EpochInputs {
  readonly series: readonly SeriesSummary[];
  readonly policy: SamplingPolicy;
  readonly seed: bigint;
  readonly epoch: number;
  /** Ascending catalog indices the epoch draws from (e.g. one part of a split); absent: all. */
  readonly eligible?: readonly number[] | undefined;
}

export function createEpochItems(inputs: EpochInputs): EpochItems {
  const { series, policy, seed, epoch, eligible } = inputs;
  checkEpoch(epoch);
  const drawn = Uint32Array.from(eligible ?? series.keys());
  const withNodules = [...drawn].filter((s) => series[s]!.nodules.length > 0);
  const runSeries = Uint32Array.from(withNodules);
  const runStart = new Uint32Array(withNodules.length + 1);
  const samplesPerNodule = policy.samplesPerNodule;
  let noduleItems = 0;
  withNodules.forEach((s, run) => {
    runStart[run] = noduleItems;
    noduleItems += series[s]!.nodules.length * samplesPerNodule;
  });
  runStart[withNodules.length] = noduleItems;
  const negatives = policy.negativesPerEpoch;
  if (negatives > 0 && drawn.length === 0) {
    throw new VoxelfeedError(
      'FAILED_PRECONDITION',
      `the data set has no series to draw ${negatives} negatives from; add series or set negatives_per_epoch to 0`,
    );
  }
  const size = noduleItems + negatives;
  if (size === 0) {
    throw new VoxelfeedError(
      'FAILED_PRECONDITION',
      'the data set has no nodules and negatives_per_epoch is 0; set negatives_per_epoch > 0',
    );
  }
  if (size > 0xffff_ffff) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `the epoch would hold ${size} items, over the limit of ${0xffff_ffff}; lower samples_per_nodule or negatives_per_epoch`,
    );
  }
  const last = drawn.length - 1;
  const runOf = (index: number): number => {
    // The last run whose start is <= index; runs of series with nodules are never empty.
    let lo = 0;
    let hi = runSeries.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (runStart[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const negativeSeries = (j: number): number =>
    // With one series nextInt(0, 0) draws nothing, so skipping the generator changes no result.
    drawn[last === 0 ? 0 : createRng(negativeSeriesKey(seed, epoch, j)).nextInt(0, last)]!;
  const checkIndex = (index: number): void => {
    if (!Number.isInteger(index) || index < 0 || index >= size) {
      throw new RangeError(`item index ${index} is outside the epoch's items 0..${size - 1}`);
    }
  };
  return {
    size,
    noduleItems,
    samplesPerNodule,
    runSeries,
    runStart,
    bytes: drawn.byteLength + runSeries.byteLength + runStart.byteLength,
    item(index: number): PlanItem {
      checkIndex(index);
      if (index >= noduleItems) return { series: negativeSeries(index - noduleItems), nodule: -1 };
      const run = runOf(index);
      return {
        series: runSeries[run]!,
        nodule: Math.floor((index - runStart[run]!) / samplesPerNodule),
      };
    },
    seriesOf(index: number): number {
      checkIndex(index);
      return index >= noduleItems ? negativeSeries(index - noduleItems) : runSeries[runOf(index)]!;
    },
  };
}
