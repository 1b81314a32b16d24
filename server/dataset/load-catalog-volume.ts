import { VoxelfeedError } from '../errors.js';
import type { Volume } from '../sampling/types.js';
import type { CatalogSeries } from './catalog.js';
import { loadSeriesVolume } from './load-series-volume.js';

export interface VolumeLoadStats {
  readonly fileBytes: number;
  readonly readMs: number;
  readonly decodeMs: number;
}

/**
 * Reads and decodes one catalog series. The shape must still be the one indexed at start-up: a file replaced
 * under a running server with another shape would silently change what every plan means, so it is DATA_LOSS.
 */
export async function loadCatalogVolume(
  series: CatalogSeries,
  onLoaded?: (stats: VolumeLoadStats) => void,
): Promise<Volume> {
  const { volume, fileBytes, readMs, decodeMs } = await loadSeriesVolume(series.imagePath, series.maskPath);
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
