import { performance } from 'node:perf_hooks';
import type { Volume } from '../../sampling/types.js';
import { readNrrdVolume } from '../nrrd/nrrd-reader.js';
import { toServedVolume } from './volume-layout.js';

export interface LoadedSeriesVolume {
  readonly volume: Volume;
  /** Bytes read from disk for both files (compressed size for gzip). */
  readonly fileBytes: number;
  /** Wall time of file I/O: the slower of the two files, which are read in parallel. */
  readonly readMs: number;
  /** The rest of the wall time: decompression, byte swapping, conversion to uint8 and transposition. */
  readonly decodeMs: number;
}

/**
 * Reads a series' image and mask NRRDs in parallel and converts them to the cache's layout. `readMs` plus
 * `decodeMs` is the wall time of the whole load, so the two metrics stages add up to what a cache miss costs.
 */
export async function loadSeriesVolume(imagePath: string, maskPath: string): Promise<LoadedSeriesVolume> {
  const started = performance.now();
  const [image, mask] = await Promise.all([readNrrdVolume(imagePath), readNrrdVolume(maskPath)]);
  const volume = await toServedVolume(image, mask, imagePath, maskPath);
  const totalMs = performance.now() - started;
  const readMs = Math.min(totalMs, Math.max(image.readMs, mask.readMs));
  return { volume, fileBytes: image.fileBytes + mask.fileBytes, readMs, decodeMs: totalMs - readMs };
}
