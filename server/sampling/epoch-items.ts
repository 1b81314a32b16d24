import { VoxelfeedError } from '../errors.js';
import { checkEpoch, negativeSeriesKey } from './plan-keys.js';
import { createRng } from './rng.js';
import type { PlanItem, SamplingPolicy, SeriesSummary } from './types.js';

/**
 * The items of one epoch before shuffling: for each series in catalog order, each of its nodules
 * `samplesPerNodule` times; then `negativesPerEpoch` negatives (nodule -1). Negative j's series is drawn
 * uniformly over all series from its own stream, so a negative's series does not depend on any other item.
 * Series without nodules appear only through negatives. `eligible` (ascending series indices, default all)
 * restricts both nodules and negatives to a part of the catalog, e.g. the training part of a split; item
 * series indices always refer to the whole catalog.
 */
export function buildEpochItems(
  series: readonly SeriesSummary[],
  policy: SamplingPolicy,
  seed: bigint,
  epoch: number,
  eligible: readonly number[] = series.map((_, index) => index),
): PlanItem[] {
  checkEpoch(epoch);
  const items: PlanItem[] = [];
  for (const s of eligible) {
    const nodules = series[s]!.nodules.length;
    for (let nodule = 0; nodule < nodules; nodule++) {
      for (let k = 0; k < policy.samplesPerNodule; k++) items.push({ series: s, nodule });
    }
  }
  if (policy.negativesPerEpoch > 0) {
    if (eligible.length === 0) {
      throw new VoxelfeedError(
        'FAILED_PRECONDITION',
        `the data set has no series to draw ${policy.negativesPerEpoch} negatives from; add series or set negatives_per_epoch to 0`,
      );
    }
    const last = eligible.length - 1;
    for (let j = 0; j < policy.negativesPerEpoch; j++) {
      // With one series nextInt(0, 0) draws nothing, so skipping the generator changes no result.
      const pick = last === 0 ? 0 : createRng(negativeSeriesKey(seed, epoch, j)).nextInt(0, last);
      items.push({ series: eligible[pick]!, nodule: -1 });
    }
  }
  if (items.length === 0) {
    throw new VoxelfeedError(
      'FAILED_PRECONDITION',
      'the data set has no nodules and negatives_per_epoch is 0; set negatives_per_epoch > 0',
    );
  }
  return items;
}
