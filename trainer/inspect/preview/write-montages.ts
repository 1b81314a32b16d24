import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { VoxelfeedError } from '@voxelfeed/common/voxelfeed-error.js';
import type { CaptionFont } from '../image/caption-font.js';
import { writePngFile } from '../image/write-png-file.js';
import { composeMontage, type MontageOptions } from './compose-montage.js';
import type { NamedBatch } from './preview-source.js';

/** One montage written. */
export interface WrittenMontage {
  readonly file: string;
  readonly step: number | null;
  readonly samples: number;
  readonly slices: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Writes `<outDir>/<name>.png` for every batch (the folder is created if absent), calling `wrote` after each
 * file so the user sees progress on a long run.
 */
export async function writeMontages(
  batches: AsyncIterable<NamedBatch>,
  outDir: string,
  options: Omit<MontageOptions, 'overlay'>,
  font: CaptionFont,
  wrote: (montage: WrittenMontage) => void,
): Promise<WrittenMontage[]> {
  await makeOutDir(outDir);
  const written: WrittenMontage[] = [];
  for await (const { name, batch } of batches) {
    const montage = composeMontage(batch, { ...options, overlay: true }, font);
    const file = path.join(outDir, `${name}.png`);
    await writePngFile(file, await font.toPng(montage.image, montage.texts));
    const entry: WrittenMontage = {
      file,
      step: batch.step,
      samples: batch.samples.length,
      slices: montage.slices.length,
      width: montage.image.width,
      height: montage.image.height,
    };
    written.push(entry);
    wrote(entry);
  }
  return written;
}

async function makeOutDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new VoxelfeedError(
      'FAILED_PRECONDITION',
      `--out ${dir}: cannot create the folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); choose a writable folder`,
      { cause: error },
    );
  }
}
