import { VoxelfeedError } from '../errors.js';
import { cropHasForeground } from './crop-has-foreground.js';
import { centerOrigin, jitterRange, negativeRange } from './crop-origin.js';
import { drawAugmentation } from './draw-augmentation.js';
import type { EpochPlan } from './epoch-plan.js';
import { isForegroundSlot } from './foreground-slots.js';
import { labelIndexOf, labelVoxelCount, nthLabelVoxel } from './label-index.js';
import { checkPosition, foregroundItemKey, sampleKey } from './plan-keys.js';
import { createRng, type Rng } from './rng.js';
import type {
  CropMode,
  CropParams,
  Nodule,
  SamplingPolicy,
  SeriesSummary,
  Shape3,
  Vec3,
  Volume,
} from './types.js';

/** What the samples of one epoch plan share: the same for every position of a batch. */
export interface SampleContext {
  readonly plan: EpochPlan;
  /** The catalog the plan was built from. */
  readonly series: readonly SeriesSummary[];
  readonly policy: SamplingPolicy;
  readonly seed: bigint;
  readonly epoch: number;
  readonly cropSize: Shape3;
  /** The per-rank batch size: needed (and only read) when the policy sets a foreground share. */
  readonly batchSize?: number;
}

/** The decoded volume of a series, for draws that look at the mask (negatives that avoid foreground). */
export type MaskSource = (series: number) => Volume | undefined;

/** Whether the sample at `position` draws against its series' mask: then `planSample` needs `masks`. */
export function sampleNeedsMask(context: SampleContext, position: number): boolean {
  if (context.policy.labelRatios !== undefined) return true;
  if (context.policy.backgroundMaxDraws === undefined) return false;
  return planSample(context, position, () => undefined, true).mode === 'negative';
}

/**
 * Draws everything one sample needs, from one stream keyed by (seed, epoch, position), in a fixed order:
 * the mode (one nextFloat, drawn even for negative items so the stream layout never depends on the item),
 * then the origin on axes 0, 1, 2. Nothing depends on other positions, so any sample can be planned alone
 * (resume at any step, any rank, any replica). The result is plain data that `extractCrop` applies.
 *
 * The newer options add to this (docs/determinism.md): a foreground share forces the last slots of a batch to
 * nodule-centred modes, negatives that avoid foreground draw again against the mask, label ratios centre the
 * crop on a drawn label's voxel, and augmentation is drawn from streams of its own.
 *
 * `masks` gives the decoded volume of a series, needed when the sample draws against its mask
 * (`sampleNeedsMask`). `modeOnly` skips those draws and augmentation: the result then tells only the mode and
 * series, for finding which volumes the planning needs.
 *
 * The order of draws is part of the wire contract: changing it changes every served batch.
 */
export function planSample(
  context: SampleContext,
  position: number,
  masks?: MaskSource,
  modeOnly = false,
): CropParams {
  const { plan, series, policy, seed, epoch, cropSize } = context;
  if (plan.seed !== seed || plan.epoch !== epoch) {
    throw new VoxelfeedError(
      'INTERNAL',
      `planSample got the plan of seed ${plan.seed} epoch ${plan.epoch} for seed ${seed} epoch ${epoch}`,
    );
  }
  checkPosition(position);
  let item = plan.itemAt(position);
  let planItem = plan.items.item(item);
  const forced = isForegroundSlot(policy, context.batchSize, position);
  if (forced && planItem.nodule < 0) {
    // A negative item in a slot the foreground share forces is centred on a nodule item drawn uniformly from
    // the epoch's nodule items (its own stream, so the sample's stream keeps its layout).
    if (plan.items.noduleItems === 0) {
      throw new VoxelfeedError(
        'FAILED_PRECONDITION',
        `sampling.foreground_share is ${policy.foregroundShare} but the epoch has no nodule to centre on; set foreground_share to 0 or serve series with nodules`,
      );
    }
    item = createRng(foregroundItemKey(seed, epoch, position)).nextInt(0, plan.items.noduleItems - 1);
    planItem = plan.items.item(item);
  }
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
  const drawn: 'jitter' | 'negative' | 'center' =
    nodule === undefined ? 'negative' : forced ? chooseForegroundMode(u, policy) : chooseMode(u, policy);
  let mode: CropMode = drawn;
  let origin: Vec3;
  let background: CropParams['background'];
  let label: number | undefined;
  if (policy.labelRatios !== undefined && !modeOnly) {
    const volume = masks?.(planItem.series);
    if (volume === undefined) {
      throw new VoxelfeedError(
        'INTERNAL',
        `planSample needs the mask of series ${planItem.series} to draw a label`,
      );
    }
    const drawnLabel = drawLabelCentre(rng, volume, policy.labelRatios, forced, cropSize);
    if (drawnLabel === null) {
      mode = 'negative';
      origin = negativeOrigin(rng, summary.shape, cropSize);
    } else {
      mode = 'label';
      ({ origin, label } = drawnLabel);
    }
  } else if (drawn !== 'negative') {
    origin = noduleOrigin(rng, nodule!, cropSize, drawn);
  } else if (policy.backgroundMaxDraws === undefined || modeOnly) {
    origin = negativeOrigin(rng, summary.shape, cropSize);
  } else {
    const volume = masks?.(planItem.series);
    if (volume === undefined) {
      throw new VoxelfeedError(
        'INTERNAL',
        `planSample needs the mask of series ${planItem.series} to avoid foreground`,
      );
    }
    // The first draw is the origin a plain negative gets; later draws continue the same stream.
    let draws = 0;
    do {
      origin = negativeOrigin(rng, summary.shape, cropSize);
      draws += 1;
    } while (cropHasForeground(volume, origin, cropSize) && draws < policy.backgroundMaxDraws);
    const missed = cropHasForeground(volume, origin, cropSize);
    if (!missed) mode = 'background';
    background = { draws, missed };
  }
  const params: CropParams = {
    index: position,
    item,
    series: planItem.series,
    nodule: planItem.nodule,
    mode,
    origin,
    size: cropSize,
  };
  const augment =
    policy.augmentation === undefined || modeOnly
      ? undefined
      : drawAugmentation(policy.augmentation, { seed, epoch, position });
  return {
    ...params,
    ...(augment === undefined ? {} : { augment }),
    ...(background === undefined ? {} : { background }),
    ...(label === undefined ? {} : { label }),
  };
}

/**
 * MONAI's RandCropByLabelClasses: a label drawn among those present in the volume by `ratios` (absent ones
 * weigh 0; in a forced foreground slot label 0 too), by one nextFloat against the running sums in ascending
 * label order, then its voxel of rank nextInt(0, count - 1) in C order, at crop index size // 2.
 * Null when no present label weighs anything (the caller cuts a negative).
 */
function drawLabelCentre(
  rng: Rng,
  volume: Volume,
  ratios: readonly number[],
  forced: boolean,
  size: Shape3,
): { origin: Vec3; label: number } | null {
  const index = labelIndexOf(volume);
  const weighted: [label: number, weight: number, count: number][] = [];
  for (const label of [0, ...index.labels]) {
    const weight = label === 0 && forced ? 0 : (ratios[label] ?? 0);
    const count = labelVoxelCount(volume, index, label);
    if (weight > 0 && count > 0) weighted.push([label, weight, count]);
  }
  if (weighted.length === 0) return null;
  const total = weighted.reduce((sum, [, weight]) => sum + weight, 0);
  const v = rng.nextFloat() * total;
  let running = 0;
  let chosen = weighted[weighted.length - 1]!;
  for (const entry of weighted) {
    running += entry[1];
    if (v < running) {
      chosen = entry;
      break;
    }
  }
  const [label, , count] = chosen;
  const voxel = nthLabelVoxel(volume, index, label, rng.nextInt(0, count - 1));
  return {
    label,
    origin: [
      voxel[0] - Math.floor(size[0] / 2),
      voxel[1] - Math.floor(size[1] / 2),
      voxel[2] - Math.floor(size[2] / 2),
    ],
  };
}

/**
 * The mode of a slot the foreground share forces: jitter if u < pj/(pj+pc), else center; jitter when both
 * are zero (a policy of negatives only still gets its share of nodule-centred crops).
 */
export function chooseForegroundMode(u: number, policy: SamplingPolicy): 'jitter' | 'center' {
  const sum = policy.jitterProb + policy.centerProb;
  if (sum === 0) return 'jitter';
  return u < policy.jitterProb / sum ? 'jitter' : 'center';
}

/**
 * Jitter if u < pj/sum, else negative if u < (pj+pn)/sum, else center; a zero probability is never chosen.
 * Policies sum to 1 within 1e-6 (`resolveSamplingPolicy`); dividing by the sum only absorbs float32 rounding,
 * and keeps every mode drawn so far unchanged.
 */
export function chooseMode(u: number, policy: SamplingPolicy): 'jitter' | 'negative' | 'center' {
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
