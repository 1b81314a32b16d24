import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import type { SharedMemoryRequest } from '@voxelfeed/proto';

/** How a client names its probe file: the server reads nothing else on its behalf. */
export const PROBE_NAME = /^voxelfeed-probe-[0-9a-f]{32}$/;
/** Tokens are 32 hex digits; a longer file is not a probe. */
const MAX_PROBE_BYTES = 256;

export type ProbeOutcome =
  | { readonly ok: true; readonly directory: string }
  | { readonly ok: false; readonly reason: string };

/**
 * Whether the client that sent `request` sees the same shared-memory directory as this server (the same host,
 * the same /dev/shm): it wrote `probe_token` into `probe_path` and this reads it back. The path must be
 * absolute and name a regular file `voxelfeed-probe-<32 hex digits>` (no symbolic link), so a request cannot
 * make the server read any other file. Never throws: a probe that fails is a reason to stream normally.
 */
export async function verifySharedMemoryProbe(request: SharedMemoryRequest): Promise<ProbeOutcome> {
  const probe = request.probePath;
  if (!path.isAbsolute(probe) || path.normalize(probe) !== probe || !PROBE_NAME.test(path.basename(probe))) {
    return refused(
      `probe_path ${JSON.stringify(probe)} is not an absolute path to a file named voxelfeed-probe-<32 hex digits>`,
    );
  }
  let text: string;
  try {
    const file = await open(probe, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      if (!(await file.stat()).isFile()) return refused(`probe ${probe} is not a regular file`);
      const buffer = Buffer.alloc(MAX_PROBE_BYTES);
      const { bytesRead } = await file.read(buffer, 0, MAX_PROBE_BYTES, 0);
      text = buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await file.close();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'an error';
    return refused(
      `the server cannot read probe ${probe} (${code}): client and server are on different hosts or see different ${path.dirname(probe)}`,
    );
  }
  if (request.probeToken === '' || text !== request.probeToken) {
    return refused(
      `probe ${probe} holds another token than the request's: client and server see different files there`,
    );
  }
  return { ok: true, directory: path.dirname(probe) };
}

function refused(reason: string): ProbeOutcome {
  return { ok: false, reason };
}
