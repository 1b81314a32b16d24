import { readFile } from 'node:fs/promises';
import { VoxelfeedError } from './voxelfeed-error.js';

/**
 * A file named by an option (a certificate, a key, a token file), read whole. A failure is an
 * INVALID_ARGUMENT that names the option, the file and what went wrong, so the program stops at start-up
 * with a line the operator can act on rather than a stack trace.
 */
export async function readOptionFile(file: string, option: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new VoxelfeedError('INVALID_ARGUMENT', `${option} ${file}: cannot read it: ${reasonOf(error)}`, {
      cause: error,
    });
  }
}

function reasonOf(error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'no such file; check the path (relative paths start at the working folder)';
    case 'EACCES':
      return 'permission denied; make it readable by the user that runs voxelfeed';
    case 'EISDIR':
      return 'it is a folder; give the file inside it';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
