import { writeFile } from 'node:fs/promises';
import { VoxelfeedError } from '@voxelfeed/common/voxelfeed-error.js';

/**
 * Writes PNG bytes to `file`; a failure is one FAILED_PRECONDITION line naming the file, the reason
 * (ENOSPC, EACCES...) and the fix.
 */
export async function writePngFile(file: string, png: Uint8Array, option = '--out'): Promise<void> {
  try {
    await writeFile(file, png);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new VoxelfeedError(
      'FAILED_PRECONDITION',
      `cannot write ${file} (${reason}); point ${option} at a writable folder with free space`,
      { cause: error },
    );
  }
}
