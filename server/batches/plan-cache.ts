import { LRUCache } from 'lru-cache';
import type { CatalogSeries } from '../dataset/catalog/catalog.js';
import { VoxelfeedError } from '../errors.js';
import { type EpochPlan, epochPlanSteps } from '../sampling/epoch-plan.js';
import { planWithoutSeriesSteps } from '../sampling/plan-without-series.js';
import { ALL_SERIES, eligibleSeries, type SeriesSplit } from '../sampling/series-split.js';
import type { SamplingPolicy } from '../sampling/types.js';
import { PlanBuildQueue } from './plan-build-queue.js';

/** The default bound of the plan cache: 64 plans of a million items each (4 MiB), or thousands of small ones. */
export const DEFAULT_PLAN_CACHE_BYTES = 256 * 1024 ** 2;

/** What a kept plan costs beside its arrays: its key, its objects and functions, the cache's slot. */
const ENTRY_OVERHEAD_BYTES = 1024;

export interface PlanCacheOptions {
  /** Bytes of plans kept (order, tables and replacement plans); `--plan-cache-bytes`. */
  readonly maxBytes?: number;
  /** Where builds run; default: a queue of this cache's own. */
  readonly queue?: PlanBuildQueue;
}

/**
 * Epoch plans of one data set, built once per (seed, epoch, items policy) and shared by every stream that
 * asks for them: with 256 ranks on one epoch the O(items) shuffle runs once, not 256 times, and streams that
 * ask while it is being built wait for that one build. Builds run in slices on the event loop
 * (PlanBuildQueue), so a plan of a million items never stops the other streams.
 *
 * Kept plans are bounded by bytes, least recently used first out; a plan larger than the whole bound is built,
 * served to the calls that asked for it and not kept, like an oversize volume in the volume cache.
 */
export class PlanCache {
  private readonly plans: LRUCache<string, EpochPlan>;
  private readonly series: readonly CatalogSeries[];
  private readonly queue: PlanBuildQueue;
  private readonly maxBytes: number;
  /** Builds in progress by key, so concurrent requests for one plan share its build. */
  private readonly building = new Map<string, Promise<EpochPlan>>();
  /** The key of each plan built here, to count its replacement plan in its entry's size. */
  private readonly keys = new WeakMap<EpochPlan, string>();
  /**
   * The latest replacement plan of each plan, for `withoutBadSeries`. Weak, so an entry goes with its plan
   * once the LRU has evicted it and no stream holds it: one entry per live plan, never more.
   */
  private readonly replacements = new WeakMap<EpochPlan, Replacement>();
  private builds = 0;
  private replacementBuilds = 0;
  private oversize = 0;

  constructor(series: readonly CatalogSeries[], options: PlanCacheOptions = {}) {
    this.series = series;
    this.maxBytes = options.maxBytes ?? DEFAULT_PLAN_CACHE_BYTES;
    this.queue = options.queue ?? new PlanBuildQueue();
    this.plans = new LRUCache<string, EpochPlan>({ maxSize: this.maxBytes });
  }

  get(
    policy: SamplingPolicy,
    seed: bigint,
    epoch: number,
    split: SeriesSplit = ALL_SERIES,
  ): Promise<EpochPlan> {
    // Only these fields shape the item list and its order; crop-mode probabilities act per sample.
    const splitKey = split.part === 'all' ? 'all' : `${split.part}<${split.holdoutFraction}`;
    const key = `${seed}:${epoch}:${policy.samplesPerNodule}:${policy.negativesPerEpoch}:${policy.shuffleWindow}:${splitKey}`;
    const cached = this.plans.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    const inFlight = this.building.get(key);
    if (inFlight !== undefined) return inFlight;
    const eligible = split.part === 'all' ? undefined : eligibleSeries(this.series, split);
    try {
      if (eligible !== undefined) checkSplitHasItems(this.series, eligible, split, policy);
    } catch (error) {
      return Promise.reject(error);
    }
    const items = epochItemCount(this.series, policy, eligible);
    const built = this.queue
      .run(epochPlanSteps({ series: this.series, policy, seed, epoch, eligible }), items)
      .then((plan) => {
        this.builds += 1;
        this.keys.set(plan, key);
        this.keep(key, plan, plan.bytes);
        return plan;
      });
    this.building.set(key, built);
    const done = () => this.building.delete(key);
    built.then(done, done);
    return built;
  }

  /**
   * `plan` without the series in `badSeries` (`planWithoutSeries`), built once per (plan, bad-set size) and
   * shared by every stream of that plan: without it each stream rebuilt the O(items) replacement each time
   * the bad set grew. `badSeries` must be one set that only grows (the volume cache's `failedKeys`, a live
   * view), so its size names its contents; a different set object, or a smaller size, rebuilds. Only the
   * latest size is kept per plan: the set never shrinks, so an older one is never asked for again. The
   * replacement counts in its plan's entry.
   */
  withoutBadSeries(plan: EpochPlan, badSeries: ReadonlySet<number>): Promise<EpochPlan> {
    if (badSeries.size === 0) return Promise.resolve(plan);
    const kept = this.replacements.get(plan);
    if (kept !== undefined && kept.badSeries === badSeries && kept.size === badSeries.size) return kept.plan;
    // The steps copy the set now, so the replacement is the one for this size even if the set grows meanwhile.
    const replaced = this.queue.run(planWithoutSeriesSteps(plan, badSeries), plan.size);
    this.replacements.set(plan, { badSeries, size: badSeries.size, plan: replaced });
    replaced.then(
      (result) => {
        this.replacementBuilds += 1;
        const key = this.keys.get(plan);
        // Still the kept plan of its key (and the latest replacement of it): its entry grows by the replacement.
        if (
          key !== undefined &&
          this.plans.peek(key) === plan &&
          this.replacements.get(plan)?.plan === replaced
        ) {
          this.keep(key, plan, Math.max(plan.bytes, result.bytes));
        }
      },
      () => {}, // the callers get the error; it stays as the answer for this bad set
    );
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

  /** Plans built too large to keep (over the whole bound) since creation. */
  get oversizeCount(): number {
    return this.oversize;
  }

  /** Plans kept now. */
  get heldCount(): number {
    return this.plans.size;
  }

  /** Bytes of the plans kept now, as counted against the bound. */
  get heldBytes(): number {
    return this.plans.calculatedSize;
  }

  /** Keeps `plan` under `key` at `bytes` (again, when its replacement grows it), or not at all if too large. */
  private keep(key: string, plan: EpochPlan, bytes: number): void {
    const size = bytes + ENTRY_OVERHEAD_BYTES;
    // The LRU keeps an entry's old size when the same value is set again: take it out first.
    this.plans.delete(key);
    if (size > this.maxBytes) {
      this.oversize += 1;
      return;
    }
    this.plans.set(key, plan, { size });
  }
}

/** A replacement plan (being built or built) and the bad set (object and size) it is for. */
interface Replacement {
  readonly badSeries: ReadonlySet<number>;
  readonly size: number;
  readonly plan: Promise<EpochPlan>;
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

/** The number of items of an epoch: each eligible nodule `samplesPerNodule` times, plus the negatives. */
function epochItemCount(
  series: readonly CatalogSeries[],
  policy: SamplingPolicy,
  eligible: readonly number[] | undefined,
): number {
  const indices = eligible ?? series.map((_, index) => index);
  const nodules = indices.reduce((total, index) => total + series[index]!.nodules.length, 0);
  return nodules * policy.samplesPerNodule + policy.negativesPerEpoch;
}
