import { runHalves } from './run-halves.js';

export interface TimedValue {
  /** Seconds since the start of the run. */
  readonly seconds: number;
  readonly value: number;
}

/** The least-squares slope of value over seconds (value units per second); null for fewer than 2 times. */
export function leastSquaresSlope(points: readonly TimedValue[]): number | null {
  if (points.length < 2) return null;
  const n = points.length;
  const meanT = points.reduce((sum, point) => sum + point.seconds, 0) / n;
  const meanV = points.reduce((sum, point) => sum + point.value, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const point of points) {
    covariance += (point.seconds - meanT) * (point.value - meanV);
    variance += (point.seconds - meanT) ** 2;
  }
  return variance === 0 ? null : covariance / variance;
}

/**
 * Memory growth in MiB per minute over the second half of a run (the first half holds the warm-up: the cache
 * filling, JIT, buffer pools), from RSS samples in bytes. Null with fewer than 2 samples in that half.
 */
export function memorySlopeMiBPerMinute(rss: readonly TimedValue[]): number | null {
  const slope = leastSquaresSlope(runHalves(rss)[1]);
  return slope === null ? null : (slope * 60) / 1024 ** 2;
}
