import { isVoxelfeedError, VoxelfeedError } from '../../errors.js';
import type { Volume } from '../../sampling/types.js';
import type { CatalogSeries } from '../catalog/catalog.js';
import { type LoadedSeriesVolume, loadSeriesVolume } from './load-series-volume.js';

export interface VolumeLoadStats {
  readonly fileBytes: number;
  readonly readMs: number;
  readonly decodeMs: number;
}

/**
 * Reads and decodes one catalog series, here or where `read` says (a crop worker thread). The shape must
 * still be the one indexed at start-up: a file replaced under a running server with another shape would
 * silently change what every plan means, so it is DATA_LOSS.
 */
export async function loadCatalogVolume(
  series: CatalogSeries,
  onLoaded?: (stats: VolumeLoadStats) => void,
  read: (imagePath: string, maskPath: string) => Promise<LoadedSeriesVolume> = loadSeriesVolume,
): Promise<Volume> {
  const { volume, fileBytes, readMs, decodeMs } = await read(series.imagePath, series.maskPath);
  const [a, b, c] = volume.shape;
  if (a !== series.shape[0] || b !== series.shape[1] || c !== series.shape[2]) {
    throw new VoxelfeedError(
      'DATA_LOSS',
      `series ${series.uid}: ${series.imagePath} now has shape ${volume.shape.join('x')}, indexed as ${series.shape.join('x')}; restart the server after changing files`,
    );
  }
  onLoaded?.({ fileBytes, readMs, decodeMs });
  return volume;
}

/** Error codes of a momentary shortage (descriptors, memory) or interruption: the next read may well work. */
const TRANSIENT_SYSTEM_CODES = new Set([
  'EMFILE',
  'ENFILE',
  'EAGAIN',
  'ENOMEM',
  'EBUSY',
  'EINTR',
  'ETIMEDOUT',
]);

/**
 * Whether a load error means the series cannot be served for as long as this server runs: DATA_LOSS (a file
 * missing, truncated or corrupt, or a changed shape), unless its cause is a momentary shortage of the system
 * such as too many open files, which must not mark a good series bad.
 */
export function isPermanentLoadFailure(error: unknown): boolean {
  if (!isVoxelfeedError(error) || error.code !== 'DATA_LOSS') return false;
  let cause: unknown = error.cause;
  for (let depth = 0; cause instanceof Error && depth < 8; depth++) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code !== undefined && TRANSIENT_SYSTEM_CODES.has(code)) return false;
    cause = cause.cause;
  }
  return true;
}
