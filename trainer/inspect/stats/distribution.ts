/** Mean and population standard deviation (numpy's `mean` and `std`, ddof 0); null for no values. */
export function meanAndStd(values: readonly number[]): { mean: number; std: number } | null {
  if (values.length === 0) return null;
  const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
  const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance) };
}

/**
 * The q-quantile (0..1) by linear interpolation between the closest ranks, as numpy's `percentile` (method
 * 'linear', its default) computes it, so figures can be checked against numpy; null for no values.
 */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const h = (sorted.length - 1) * q;
  const below = Math.floor(h);
  const low = sorted[below]!;
  const high = sorted[Math.min(below + 1, sorted.length - 1)]!;
  return low + (h - below) * (high - low);
}

/**
 * Counts of values in `bins` equal bins over [0, 1]: bin k holds k/bins <= v < (k+1)/bins, the last one 1
 * as well (numpy's `histogram` with edges `arange(bins + 1) / bins`); values outside [0, 1] are counted
 * apart, in `below` and `above`.
 */
export function unitHistogram(
  values: readonly number[],
  bins: number,
): { counts: number[]; below: number; above: number } {
  const counts = new Array<number>(bins).fill(0);
  let below = 0;
  let above = 0;
  for (const v of values) {
    if (v < 0) below++;
    else if (v > 1) above++;
    else {
      // The edges are k / bins exactly; the product can round across one, so the bin is corrected against them.
      let k = Math.min(bins - 1, Math.floor(v * bins));
      if (v < k / bins) k--;
      else if (k < bins - 1 && v >= (k + 1) / bins) k++;
      counts[k]! += 1;
    }
  }
  return { counts, below, above };
}
