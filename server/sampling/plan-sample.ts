import { VoxelfeedError } from '../errors.js';
import { centerOrigin, jitterRange, negativeRange } from './crop-origin.js';
import type { EpochPlan } from './epoch-plan.js';
import { checkPosition, sampleKey } from './plan-keys.js';
import { createRng, type Rng } from './rng.js';
import type { CropMode, CropParams, Nodule, SamplingPolicy, SeriesSummary, Shape3, Vec3 } from './types.js';

/** What the samples of one epoch plan share: the same for every position of a batch. */
export interface SampleContext {
  readonly plan: EpochPlan;
  /** The catalog the plan was built from. */
  readonly series: readonly SeriesSummary[];
  readonly policy: SamplingPolicy;
  readonly seed: bigint;
  readonly epoch: number;
  readonly cropSize: Shape3;
}

/**
 * Draws everything one sample needs, from one stream keyed by (seed, epoch, position), in a fixed order:
 * the mode (one nextFloat, drawn even for negative items so the stream layout never depends on the item),
 * then the origin on axes 0, 1, 2. Nothing depends on other positions, so any sample can be planned alone
 * (resume at any step, any rank, any replica). The result is plain data that `extractCrop` applies.
 *
 * The order of draws is part of the wire contract: changing it changes every served batch.
 */
export function planSample(context: SampleContext, position: number): CropParams {
  const { plan, series, policy, seed, epoch, cropSize } = context;
  if (plan.seed !== seed || plan.epoch !== epoch) {
    throw new VoxelfeedError(
      'INTERNAL',
      `planSample got the plan of seed ${plan.seed} epoch ${plan.epoch} for seed ${seed} epoch ${epoch}`,
    );
  }
  checkPosition(position);
  const item = plan.itemAt(position);
  const planItem = plan.items.item(item);
  const summary = series[planItem.series];
  const nodule = planItem.nodule < 0 ? undefined : summary?.nodules[planItem.nodule];
  if (summary === undefined || (planItem.nodule >= 0 && nodule === undefined)) {
    throw new VoxelfeedError(
      'INTERNAL',
      `plan item ${item} (series ${planItem.series}, nodule ${planItem.nodule}) is not in the catalog it was planned from`,
    );
  }

  const rng = createRng(sampleKey(seed, epoch, position));
  const u = rng.nextFloat();
  const mode: CropMode = nodule === undefined ? 'negative' : chooseMode(u, policy);
  const origin =
    mode === 'negative'
      ? negativeOrigin(rng, summary.shape, cropSize)
      : noduleOrigin(rng, nodule!, cropSize, mode);
  return {
    index: position,
    item,
    series: planItem.series,
    nodule: planItem.nodule,
    mode,
    origin,
    size: cropSize,
  };
}

/**
 * Jitter if u < pj/sum, else negative if u < (pj+pn)/sum, else center; a zero probability is never chosen.
 * Policies sum to 1 within 1e-6 (`resolveSamplingPolicy`); dividing by the sum only absorbs float32 rounding,
 * and keeps every mode drawn so far unchanged.
 */
export function chooseMode(u: number, policy: SamplingPolicy): CropMode {
  const sum = policy.jitterProb + policy.negativeProb + policy.centerProb;
  if (u < policy.jitterProb / sum) return 'jitter';
  if (u < (policy.jitterProb + policy.negativeProb) / sum) return 'negative';
  return 'center';
}

function noduleOrigin(rng: Rng, nodule: Nodule, size: Shape3, mode: 'jitter' | 'center'): Vec3 {
  const origin = [0, 0, 0];
  for (let k = 0; k < 3; k++) {
    const c = nodule.center[k]!;
    const s = size[k]!;
    const range = mode === 'jitter' ? jitterRange(c, nodule.diameter, s) : null;
    origin[k] = range === null ? centerOrigin(c, s) : rng.nextInt(range[0], range[1]);
  }
  return [origin[0]!, origin[1]!, origin[2]!];
}

function negativeOrigin(rng: Rng, shape: Shape3, size: Shape3): Vec3 {
  const origin = [0, 0, 0];
  for (let k = 0; k < 3; k++) {
    const [min, max] = negativeRange(shape[k]!, size[k]!);
    origin[k] = rng.nextInt(min, max);
  }
  return [origin[0]!, origin[1]!, origin[2]!];
}
