import { createHash } from 'node:crypto';
import type { SeriesSummary } from '../../sampling/types.js';

/**
 * A short hash of everything that decides what a request returns: series order, uids, shapes and boxes.
 * Voxel contents are not hashed (that would read every file); a replaced volume with the same header and
 * boxes keeps its fingerprint.
 */
export function catalogFingerprint(series: readonly SeriesSummary[]): string {
  const hash = createHash('sha256');
  hash.update('voxelfeed-catalog-v1\n');
  for (const entry of series) {
    hash.update(`${entry.uid}\t${entry.shape.join(',')}\t`);
    for (const nodule of entry.nodules) {
      hash.update(`${nodule.center.join(',')},${nodule.diameter};`);
    }
    hash.update('\n');
  }
  return hash.digest('hex').slice(0, 16);
}
