import { LRUCache } from 'lru-cache';
import type { CatalogSeries } from '../dataset/catalog.js';
import { VoxelfeedError } from '../errors.js';
import { createEpochPlan, type EpochPlan } from '../sampling/epoch-plan.js';
import { planWithoutSeries } from '../sampling/plan-without-series.js';
import { ALL_SERIES, eligibleSeries, type SeriesSplit } from '../sampling/series-split.js';
import type { SamplingPolicy } from '../sampling/types.js';

/**
 * Epoch plans of one data set, built once per (seed, epoch, items policy) and shared by every stream that
 * asks for them: with 256 ranks on one epoch the O(items) shuffle runs once, not 256 times.
 */
export class PlanCache {
  private readonly plans: LRUCache<string, EpochPlan>;
  private readonly series: readonly CatalogSeries[];
  /**
   * The latest replacement plan of each plan, for `withoutBadSeries`. Weak, so an entry goes with its plan
   * once the LRU has evicted it and no stream holds it: one entry per live plan, never more.
   */
  private readonly replacements = new WeakMap<EpochPlan, Replacement>();
  private builds = 0;
  private replacementBuilds = 0;

  constructor(series: readonly CatalogSeries[], maxPlans = 64) {
    this.series = series;
    this.plans = new LRUCache<string, EpochPlan>({ max: maxPlans });
  }

  get(policy: SamplingPolicy, seed: bigint, epoch: number, split: SeriesSplit = ALL_SERIES): EpochPlan {
    // Only these fields shape the item list and its order; crop-mode probabilities act per sample.
    const splitKey = split.part === 'all' ? 'all' : `${split.part}<${split.holdoutFraction}`;
    const key = `${seed}:${epoch}:${policy.samplesPerNodule}:${policy.negativesPerEpoch}:${policy.shuffleWindow}:${splitKey}`;
    const cached = this.plans.get(key);
    if (cached !== undefined) return cached;
    const eligible = split.part === 'all' ? undefined : eligibleSeries(this.series, split);
    if (eligible !== undefined) checkSplitHasItems(this.series, eligible, split, policy);
    const plan = createEpochPlan(this.series, policy, seed, epoch, eligible);
    this.builds += 1;
    this.plans.set(key, plan);
    return plan;
  }

  /**
   * `plan` without the series in `badSeries` (`planWithoutSeries`), built once per (plan, bad-set size) and
   * shared by every stream of that plan: without it each stream rebuilt the O(items) replacement each time
   * the bad set grew. `badSeries` must be one set that only grows (the volume cache's `failedKeys`, a live
   * view), so its size names its contents; a different set object, or a smaller size, rebuilds. Only the
   * latest size is kept per plan: the set never shrinks, so an older one is never asked for again.
   */
  withoutBadSeries(plan: EpochPlan, badSeries: ReadonlySet<number>): EpochPlan {
    if (badSeries.size === 0) return plan;
    const kept = this.replacements.get(plan);
    if (kept !== undefined && kept.badSeries === badSeries && kept.size === badSeries.size) return kept.plan;
    const replaced = planWithoutSeries(plan, badSeries);
    this.replacementBuilds += 1;
    this.replacements.set(plan, { badSeries, size: badSeries.size, plan: replaced });
    return replaced;
  }

  /** Replacement plans built by `withoutBadSeries` since creation (a test hook). */
  get replacementBuildCount(): number {
    return this.replacementBuilds;
  }

  /** Plans built since creation (a test and metrics hook). */
  get buildCount(): number {
    return this.builds;
  }
}

/** A replacement plan and the bad set (object and size) it was built for. */
interface Replacement {
  readonly badSeries: ReadonlySet<number>;
  readonly size: number;
  readonly plan: EpochPlan;
}

/**
 * A split part with no series (or none with nodules, and no negatives asked for) has nothing to sample. The
 * plan builder would say "the data set has no nodules", which is wrong for the data set: this names the split.
 */
function checkSplitHasItems(
  series: readonly CatalogSeries[],
  eligible: readonly number[],
  split: SeriesSplit,
  policy: SamplingPolicy,
): void {
  const nodules = eligible.reduce((total, index) => total + series[index]!.nodules.length, 0);
  if (eligible.length > 0 && (nodules > 0 || policy.negativesPerEpoch > 0)) return;
  const part = split.part === 'holdout' ? 'SPLIT_PART_HOLDOUT' : 'SPLIT_PART_TRAIN';
  const fix =
    eligible.length === 0
      ? `${split.part === 'holdout' ? 'raise' : 'lower'} split.holdout_fraction`
      : 'set sampling.negatives_per_epoch > 0 or change split.holdout_fraction';
  throw new VoxelfeedError(
    'FAILED_PRECONDITION',
    `split.part ${part} with split.holdout_fraction ${split.holdoutFraction} holds ${eligible.length} of the ${series.length} series and ${nodules} nodules: nothing to sample; ${fix}`,
  );
}
