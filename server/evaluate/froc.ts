/** The false-positive rates of the LUNA16 competition metric, per scan. */
export const FROC_RATES: readonly number[] = [1 / 8, 1 / 4, 1 / 2, 1, 2, 4, 8];

/** The matches of one scan: what `matchNodules` returns. */
export interface ScanDetections {
  /** Per nodule, the score it was found with, or null when missed. */
  readonly noduleScores: readonly (number | null)[];
  readonly falsePositiveScores: readonly number[];
}

/** One operating point: candidates scored at least `threshold` kept. */
export interface FrocPoint {
  readonly threshold: number;
  readonly falsePositivesPerScan: number;
  readonly sensitivity: number;
}

export interface Froc {
  /** Operating points by decreasing threshold, from (0, 0) at threshold +Infinity. */
  readonly curve: readonly FrocPoint[];
  /** Sensitivity at each of FROC_RATES; null without any nodule. */
  readonly sensitivities: readonly (number | null)[];
  /** Their mean (the LUNA16 score); null without any nodule. */
  readonly mean: number | null;
  readonly scans: number;
  readonly nodules: number;
}

/**
 * The FROC curve of a set of scans, as the LUNA16 evaluation script computes it: every found nodule is a
 * positive with its best candidate's score, every false positive a negative with its own; sweeping a threshold
 * over the scores gives false positives per scan (over all scans, with or without nodules) against sensitivity
 * (over all nodules, missed ones included, so the curve ends at the share found). Sensitivity at a rate is read
 * by linear interpolation between operating points and is constant past either end, as `np.interp` does; at
 * a rate where the curve rises vertically, the top is taken, as `np.interp` does too. (The script samples the
 * interpolated curve on a grid of 10001 rates from 1/8 to 8 and picks the nearest sample; reading the rates
 * exactly differs from that by less than the grid step, 0.0008 false positives per scan.)
 */
export function computeFroc(scans: readonly ScanDetections[], rates: readonly number[] = FROC_RATES): Froc {
  const found: number[] = [];
  const falsePositives: number[] = [];
  let nodules = 0;
  for (const scan of scans) {
    nodules += scan.noduleScores.length;
    for (const score of scan.noduleScores) if (score !== null) found.push(score);
    falsePositives.push(...scan.falsePositiveScores);
  }
  found.sort(descending);
  falsePositives.sort(descending);
  const thresholds = [...new Set([...found, ...falsePositives])].sort(descending);
  const curve: FrocPoint[] = [
    { threshold: Number.POSITIVE_INFINITY, falsePositivesPerScan: 0, sensitivity: 0 },
  ];
  let tp = 0;
  let fp = 0;
  for (const threshold of thresholds) {
    while (tp < found.length && found[tp]! >= threshold) tp++;
    while (fp < falsePositives.length && falsePositives[fp]! >= threshold) fp++;
    curve.push({
      threshold,
      falsePositivesPerScan: scans.length === 0 ? 0 : fp / scans.length,
      sensitivity: nodules === 0 ? 0 : tp / nodules,
    });
  }
  const sensitivities = rates.map((rate) => (nodules === 0 ? null : interpolate(curve, rate)));
  const mean =
    nodules === 0 || rates.length === 0
      ? null
      : sensitivities.reduce((sum: number, value) => sum + value!, 0) / rates.length;
  return { curve, sensitivities, mean, scans: scans.length, nodules };
}

/** Sensitivity at `rate`: between the last point at or below it and the next one, flat past the ends. */
export function interpolate(curve: readonly FrocPoint[], rate: number): number {
  let below = -1;
  for (let i = 0; i < curve.length; i++) if (curve[i]!.falsePositivesPerScan <= rate) below = i;
  if (below === -1) return curve[0]?.sensitivity ?? 0;
  const a = curve[below]!;
  const b = curve[below + 1];
  if (b === undefined) return a.sensitivity;
  const t = (rate - a.falsePositivesPerScan) / (b.falsePositivesPerScan - a.falsePositivesPerScan);
  return a.sensitivity + t * (b.sensitivity - a.sensitivity);
}

function descending(a: number, b: number): number {
  return b - a;
}
