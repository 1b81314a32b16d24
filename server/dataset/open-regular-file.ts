import { constants as fsConstants, type Stats } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';

/**
 * Opens a file for reading, refusing anything but a regular file (rejects with a plain Error saying what it
 * is; callers say which file it was meant to be). O_NONBLOCK keeps a FIFO from blocking the open, and a libuv
 * thread with it, until a writer comes; a directory would otherwise fail later with a bare EISDIR.
 */
export async function openRegularFile(filePath: string): Promise<FileHandle> {
  const handle = await open(filePath, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new Error(`it is ${fileKind(stats)}, not a regular file`);
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

function fileKind(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'of an unknown kind';
}
