import { writeFile } from 'node:fs/promises';
import { PNG } from 'pngjs';
import { VoxelfeedError } from '../errors.js';
import type { Raster } from './froc-raster.js';

/** Encodes an RGBA raster as a PNG file at `file`. */
export async function writeRasterPng(raster: Raster, file: string): Promise<void> {
  const png = new PNG({ width: raster.width, height: raster.height });
  png.data = Buffer.from(raster.data.buffer, raster.data.byteOffset, raster.data.byteLength);
  const bytes = PNG.sync.write(png);
  await writeFile(file, bytes).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new VoxelfeedError(
      'FAILED_PRECONDITION',
      `cannot write the FROC plot to ${file} (${code}); pass --froc-png a path in a folder that exists and is writable`,
      { cause: error },
    );
  });
}
