/**
 * The slices along axis 0 a montage shows: every one, or every `every`-th from the first (0, K, 2K, ...).
 * `every` is a whole number of at least 1 (the option table checks it).
 */
export function pickSlices(depth: number, every: number): number[] {
  if (!Number.isInteger(every) || every < 1)
    throw new RangeError(`every must be a whole number >= 1, not ${every}`);
  const slices: number[] = [];
  for (let z = 0; z < depth; z += every) slices.push(z);
  return slices;
}

/** Of the shown slices, the one nearest `z` (the first of two equally near); null when none is shown. */
export function nearestShownSlice(shown: readonly number[], z: number): number | null {
  let best: number | null = null;
  for (const slice of shown) {
    if (best === null || Math.abs(slice - z) < Math.abs(best - z)) best = slice;
  }
  return best;
}
