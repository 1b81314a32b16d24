import { formatShare } from '@voxelfeed/common/cli/parse-share.js';
import type { Catalog } from './catalog.js';

/** The largest share of skipped series `serve` starts with, and `index` passes, unless told otherwise. */
export const DEFAULT_MAX_SKIPPED_SHARE = 0.1;

/** How the limit is set, for messages: the flag of both commands and the variable both read. */
export const MAX_SKIPPED_FLAG = '--max-skipped';
export const MAX_SKIPPED_VARIABLE = 'VOXELFEED_MAX_SKIPPED';

/** The share of a data set's series that indexing skipped: skipped / (served + skipped). */
export function skippedShare(catalog: Pick<Catalog, 'series' | 'skipped'>): number {
  const total = catalog.series.length + catalog.skipped.length;
  return total === 0 ? 0 : catalog.skipped.length / total;
}

/** Who prints the message: `serve` points to `voxelfeed index`, which `index` itself has just printed. */
export type SkipReporter = 'serve' | 'index';

function counted(catalog: Pick<Catalog, 'series' | 'skipped' | 'source'>): string {
  const total = catalog.series.length + catalog.skipped.length;
  return `${catalog.skipped.length} of ${total} series in ${catalog.source} are skipped (${formatShare(skippedShare(catalog))})`;
}

/**
 * The one-line refusal when more than `maxShare` of the series are skipped (null otherwise): the share, the
 * limit, the flag and the fix. A skip or two is normal in a large data set; most of it skipped is a layout
 * mistake (boxes written x,y,z fall outside the volume) that would train on a fraction of the data unnoticed.
 */
export function skippedShareProblem(
  catalog: Pick<Catalog, 'series' | 'skipped' | 'source'>,
  maxShare: number,
  reporter: SkipReporter,
): string | null {
  if (skippedShare(catalog) <= maxShare) return null;
  const why =
    reporter === 'serve'
      ? `run voxelfeed index ${catalog.source} to see why and fix the files`
      : 'fix the files of the series listed under skipped';
  return `${counted(catalog)}, more than ${MAX_SKIPPED_FLAG} ${maxShare} (${formatShare(maxShare)}, ${MAX_SKIPPED_VARIABLE}) allows; ${why}, or pass ${MAX_SKIPPED_FLAG} 1 to accept any share`;
}

/** The console warning when some series are skipped but no more than `maxShare` (null when none are). */
export function skippedShareWarning(
  catalog: Pick<Catalog, 'series' | 'skipped' | 'source'>,
  maxShare: number,
  reporter: SkipReporter,
): string | null {
  if (catalog.skipped.length === 0 || skippedShare(catalog) > maxShare) return null;
  const why =
    reporter === 'serve' ? `run voxelfeed index ${catalog.source} to see why` : 'see why under skipped';
  return `warning: ${counted(catalog)}, within ${MAX_SKIPPED_FLAG} ${maxShare} (${formatShare(maxShare)}); ${why}`;
}
