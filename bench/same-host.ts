import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { createFeedClient } from '../client/create-feed-client.js';
import type { StreamBatchesInput } from '../client/feed-requests.js';
import { spawnServer } from '../test/support/spawn-server.js';

export type SameHostPath = 'raw-tcp' | 'normal' | 'same-host';
export const SAME_HOST_PATHS: readonly SameHostPath[] = ['raw-tcp', 'normal', 'same-host'];

export interface SameHostRun {
  /** MB/s of image + mask bytes received (raw TCP: of bytes received) per path, one value per round. */
  readonly rounds: Readonly<Record<SameHostPath, number[]>>;
  readonly messageBytes: number;
}

/**
 * One stream's throughput on the same-host path against the normal stream and raw TCP loopback, in
 * alternating rounds of one run: a `voxelfeed serve` process with a warm cache streams to a TypeScript client
 * in this process with `sharedMemory` on and off; raw TCP is a separate node process writing messages of the
 * batch's size as fast as the socket takes them, to a socket here that only counts the bytes.
 */
export async function benchSameHost(
  dir: string,
  options: {
    seconds: number;
    rounds: number;
    batchSize: number;
    crop: readonly [number, number, number];
    series: number;
  },
): Promise<SameHostRun> {
  const server = await spawnServer(['--data', dir, '--cache-bytes', '2GiB', '--log-level', 'warn']);
  const client = createFeedClient({ address: server.address, prefetch: 2 });
  const directory = mkdtempSync('/dev/shm/voxelfeed-bench-');
  const request: StreamBatchesInput = {
    seed: 1,
    batchSize: options.batchSize,
    cropSize: [...options.crop] as [number, number, number],
    sampling: { samplesPerNodule: 1, negativesPerEpoch: options.series * 200 },
    dtype: 'uint8',
    includeMask: true,
  };
  const messageBytes = 2 * options.batchSize * options.crop.reduce((a, b) => a * b, 1);
  const stream = async (seconds: number, shared: boolean): Promise<number> => {
    const abort = new AbortController();
    let bytes = 0;
    const started = performance.now();
    try {
      for await (const batch of client.streamBatches(request, {
        signal: abort.signal,
        ...(shared ? { sharedMemory: { directory }, onSharedMemory: refuseFallback } : {}),
      })) {
        bytes += batch.image.byteLength + (batch.mask?.byteLength ?? 0);
        if (performance.now() - started > seconds * 1000) abort.abort();
      }
    } catch (error) {
      if (!abort.signal.aborted) throw error;
    }
    return bytes / 1e6 / ((performance.now() - started) / 1000);
  };
  const measure = (path: SameHostPath, seconds: number) =>
    path === 'raw-tcp' ? rawTcp(seconds, messageBytes) : stream(seconds, path === 'same-host');
  const rounds: Record<SameHostPath, number[]> = { 'raw-tcp': [], normal: [], 'same-host': [] };
  try {
    for (const path of SAME_HOST_PATHS) await measure(path, Math.min(2, options.seconds)); // warm caches, JITs
    for (let round = 0; round < options.rounds; round++) {
      for (const path of SAME_HOST_PATHS) rounds[path].push(await measure(path, options.seconds));
    }
    return { rounds, messageBytes };
  } finally {
    client.close();
    await server.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}

function refuseFallback(answer: { used: boolean; reason: string }): void {
  if (!answer.used) throw new Error(`the server refused the same-host path: ${answer.reason}`);
}

/** MB/s that a separate node process writes to a loopback socket in messages of `messageBytes`. */
async function rawTcp(seconds: number, messageBytes: number): Promise<number> {
  const listener = net.createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const port = (listener.address() as net.AddressInfo).port;
  const writer = spawn(
    process.execPath,
    [
      '-e',
      `const s = require('node:net').connect(${port}, '127.0.0.1');
       const m = Buffer.alloc(${messageBytes}, 1);
       const pump = () => { while (s.write(m)); };
       s.on('drain', pump); s.on('connect', pump); s.on('error', () => process.exit(0));`,
    ],
    { stdio: 'ignore' },
  );
  try {
    const [socket] = (await once(listener, 'connection')) as [net.Socket];
    let bytes = 0;
    const started = performance.now();
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const elapsed = (performance.now() - started) / 1000;
    socket.destroy();
    return bytes / 1e6 / elapsed;
  } finally {
    writer.kill();
    listener.close();
  }
}
