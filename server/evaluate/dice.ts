/** Voxel counts of one series: the prediction, the truth and their overlap. */
export interface OverlapCounts {
  readonly predicted: number;
  readonly truth: number;
  readonly both: number;
}

/** How many voxels are non-zero in `predicted`, in `truth`, and in both (same layout, same length). */
export function overlapCounts(predicted: ArrayLike<number>, truth: ArrayLike<number>): OverlapCounts {
  if (predicted.length !== truth.length) {
    throw new RangeError(`the prediction has ${predicted.length} voxels but the truth ${truth.length}`);
  }
  let p = 0;
  let t = 0;
  let both = 0;
  for (let i = 0; i < predicted.length; i++) {
    const inPrediction = predicted[i] !== 0;
    const inTruth = truth[i] !== 0;
    if (inPrediction) p++;
    if (inTruth) t++;
    if (inPrediction && inTruth) both++;
  }
  return { predicted: p, truth: t, both };
}

/**
 * Dice = 2 |P and T| / (|P| + |T|). Null when both are empty (a scan without nodules, correctly left empty):
 * 0/0 is no score, and counting it as 1 or 0 would move a mean by the share of such scans, so it is left out
 * of means, as nnU-Net does.
 */
export function dice(counts: OverlapCounts): number | null {
  const sum = counts.predicted + counts.truth;
  return sum === 0 ? null : (2 * counts.both) / sum;
}
