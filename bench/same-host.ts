import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { createFeedClient } from '../client/create-feed-client.js';
import type { StreamBatchesInput } from '../client/feed-requests.js';
import { spawnServer } from '../test/support/spawn-server.js';

export type SameHostPath =
  | 'raw-tcp'
  | 'normal'
  | 'same-host'
  | 'same-host-reused'
  | 'python-normal'
  | 'python-same-host';
export const SAME_HOST_PATHS: readonly SameHostPath[] = [
  'raw-tcp',
  'normal',
  'same-host',
  'same-host-reused',
  'python-normal',
  'python-same-host',
];
const PYTHON = '/usr/bin/python3';
const PYTHON_STREAM = fileURLToPath(new URL('./python/same_host_stream.py', import.meta.url));

/** One measurement: MB/s received, and CPU seconds per GB received of the sending and receiving processes. */
export interface SameHostRound {
  readonly mbPerS: number;
  readonly senderCpuSPerGb: number;
  readonly receiverCpuSPerGb: number;
}

export interface SameHostRun {
  /** Per path, one measurement per round (MB of image + mask bytes; raw TCP: of bytes received). */
  readonly rounds: Readonly<Record<SameHostPath, SameHostRound[]>>;
  readonly messageBytes: number;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime, fields 14 and 15 of proc(5), in clock ticks of 1/100 s.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Runs `work` (which returns bytes received) and measures it with both processes' CPU. */
async function measured(senderPid: number, work: () => Promise<number>): Promise<SameHostRound> {
  const sender = processCpuSeconds(senderPid);
  const receiver = process.cpuUsage();
  const started = performance.now();
  const bytes = await work();
  const seconds = (performance.now() - started) / 1000;
  const receiverUsage = process.cpuUsage(receiver);
  const gigabytes = bytes / 1e9;
  return {
    mbPerS: bytes / 1e6 / seconds,
    senderCpuSPerGb: (processCpuSeconds(senderPid) - sender) / gigabytes,
    receiverCpuSPerGb: (receiverUsage.user + receiverUsage.system) / 1e6 / gigabytes,
  };
}

/**
 * One stream's throughput on the same-host path against the normal stream and raw TCP loopback, in
 * alternating rounds of one run: a `voxelfeed serve` process with a warm cache streams to a TypeScript client
 * in this process, then to the Python client in a child process (/usr/bin/python3), each with the
 * same-host path off and on; raw TCP is a separate node process writing messages of the batch's size as fast
 * as the socket takes them, to a socket here that only counts the bytes.
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
  type TypeScriptPath = 'normal' | 'same-host' | 'same-host-reused';
  const stream = async (seconds: number, path: TypeScriptPath): Promise<SameHostRound> =>
    measured(server.child.pid!, () => streamBytes(seconds, path));
  const streamBytes = async (seconds: number, path: TypeScriptPath): Promise<number> => {
    const reuseBuffers = path === 'same-host-reused';
    const abort = new AbortController();
    let bytes = 0;
    const started = performance.now();
    try {
      for await (const batch of client.streamBatches(request, {
        signal: abort.signal,
        ...(path === 'normal'
          ? {}
          : { sharedMemory: { directory, reuseBuffers }, onSharedMemory: refuseFallback }),
      })) {
        bytes += batch.image.byteLength + (batch.mask?.byteLength ?? 0);
        if (performance.now() - started > seconds * 1000) abort.abort();
      }
    } catch (error) {
      if (!abort.signal.aborted) throw error;
    }
    return bytes;
  };
  const measure = (path: SameHostPath, seconds: number): Promise<SameHostRound> => {
    if (path === 'raw-tcp') return rawTcp(seconds, messageBytes);
    if (path === 'normal' || path === 'same-host' || path === 'same-host-reused')
      return stream(seconds, path);
    return pythonStream(server.address, server.child.pid!, seconds, path === 'python-same-host', directory);
  };
  const rounds = Object.fromEntries(SAME_HOST_PATHS.map((path) => [path, [] as SameHostRound[]])) as Record<
    SameHostPath,
    SameHostRound[]
  >;
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

/** What a separate node process writes to a loopback socket in messages of `messageBytes`, as received here. */
async function rawTcp(seconds: number, messageBytes: number): Promise<SameHostRound> {
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
    return await measured(writer.pid!, async () => {
      let bytes = 0;
      socket.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      socket.destroy();
      return bytes;
    });
  } finally {
    writer.kill();
    listener.close();
  }
}

/** The Python client in a child process: its own clock and CPU; the server's CPU over the child's life. */
async function pythonStream(
  address: string,
  serverPid: number,
  seconds: number,
  shared: boolean,
  directory: string,
): Promise<SameHostRound> {
  const serverBefore = processCpuSeconds(serverPid);
  const child = spawn(
    PYTHON,
    [PYTHON_STREAM, address, String(seconds), shared ? 'shared' : 'normal', directory],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${PYTHON} ${PYTHON_STREAM} exited with ${code}`);
  const result = JSON.parse(out.trim().split('\n').pop() ?? '{}') as {
    bytes: number;
    seconds: number;
    cpu_seconds: number;
  };
  const gigabytes = result.bytes / 1e9;
  return {
    mbPerS: result.bytes / 1e6 / result.seconds,
    senderCpuSPerGb: (processCpuSeconds(serverPid) - serverBefore) / gigabytes,
    receiverCpuSPerGb: result.cpu_seconds / gigabytes,
  };
}
