/**
 * The points of a run split at half its length (the time of the last point): the first half holds the
 * warm-up (the cache filling, JIT, buffer pools), the second the steady state. Both empty for no points.
 */
export function runHalves<T extends { readonly seconds: number }>(points: readonly T[]): [T[], T[]] {
  const end = points[points.length - 1]?.seconds ?? 0;
  return [
    points.filter((point) => point.seconds < end / 2),
    points.filter((point) => point.seconds >= end / 2),
  ];
}
