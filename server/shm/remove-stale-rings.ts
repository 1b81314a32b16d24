import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';

/** `voxelfeed-ring-<pid>-...`: the files of SharedMemoryRing, named after the server process that wrote them. */
const RING_NAME = /^voxelfeed-ring-(\d+)-/;

/**
 * Removes the ring files in `directory` whose server process is gone (a server that was killed cannot remove
 * its own). A process that still runs keeps its files, whatever it is: a reused process id costs a stale file
 * until the next sweep, never a live stream's. Never throws: the sweep is a courtesy to the host's memory.
 */
export async function removeStaleRings(directory: string, alive = isAlive): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(directory);
  } catch {
    return removed;
  }
  for (const name of names) {
    const pid = RING_NAME.exec(name)?.[1];
    if (pid === undefined || alive(Number(pid))) continue;
    const file = path.join(directory, name);
    await rm(file, { force: true }).then(
      () => removed.push(file),
      () => {},
    );
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
