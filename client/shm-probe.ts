import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SharedMemoryRequest } from '@voxelfeed/proto';

/** Where same-host streams put their files unless told otherwise: Linux's shared-memory file system. */
export const DEFAULT_SHARED_MEMORY_DIRECTORY = '/dev/shm';

/** A probe file written for one call, and its removal (once the server has answered, or the call ended). */
export interface SharedMemoryProbe {
  readonly request: SharedMemoryRequest;
  remove(): void;
}

/**
 * Writes `voxelfeed-probe-<32 hex digits>` holding a fresh random token under `directory`: a server that
 * reads the same token back runs on this host and sees the same directory, so it can hand batches over there.
 */
export function writeSharedMemoryProbe(directory: string): SharedMemoryProbe {
  const name = `voxelfeed-probe-${randomBytes(16).toString('hex')}`;
  const probePath = path.join(path.resolve(directory), name);
  const probeToken = randomBytes(16).toString('hex');
  writeFileSync(probePath, probeToken, { mode: 0o644, flag: 'wx' });
  let removed = false;
  return {
    request: { probePath, probeToken },
    remove: () => {
      if (removed) return;
      removed = true;
      rmSync(probePath, { force: true });
    },
  };
}
