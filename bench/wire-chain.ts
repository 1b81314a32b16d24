import { type ChildProcess, fork } from 'node:child_process';
import { formatTable } from '../common/format-table.js';
import type { Shape3 } from '../server/sampling/types.js';
import { type AssemblyResult, benchAssembly } from './wire-assembly.js';
import type { VoxelfeedStreamSpec, WireReceiverCommand, WireReceiverReport } from './wire-receiver.js';
import type { WireLink, WireSenderReport, WireSenderSpec } from './wire-sender.js';

const SENDER_SCRIPT = new URL('./wire-sender.ts', import.meta.url).pathname;
const RECEIVER_SCRIPT = new URL('./wire-receiver.ts', import.meta.url).pathname;
/** The chain from the fastest link to the product, in the order of the first round. */
const LINKS: readonly WireLink[] = ['tcp', 'http2', 'grpc-js', 'voxelfeed'];
const CLIENT_COUNTS = [1, 2, 4, 8] as const;
/** No window counts more than this, whatever the link's speed. */
const MAX_WINDOW_BYTES = 64e9;

export interface WireBenchOptions {
  readonly dir: string;
  readonly series: number;
  readonly seconds: number;
  readonly rounds: number;
  readonly batchSize: number;
  readonly crop: Shape3;
}

/**
 * One measured window of one link: bytes received (all receivers), the sender's CPU and GC time, and the
 * receivers' CPU time together.
 */
interface Window {
  readonly bytes: number;
  readonly seconds: number;
  readonly cpuMs: number;
  readonly gcMs: number;
  readonly receiversCpuMs: number;
}

export interface WireRun {
  readonly messageBytes: number;
  readonly chain: Record<WireLink, Window[]>;
  readonly aggregate: Record<number, Window[]>;
  readonly assembly: AssemblyResult;
}

/**
 * The wire benchmark: (1) the ceiling chain, one stream of messages of one batch's size over raw TCP, Node
 * http2, plain grpc-js and voxelfeed (StreamBatches from a warm cache), links alternating in order round by
 * round; (2) each sender's CPU seconds per GB and the share of it V8 spent collecting garbage; (3) the
 * aggregate of 1, 2, 4 and 8 voxelfeed client processes, distinct ranks of one world, the counts alternating
 * in order; (4) in-process assembly against a memcpy of the same bytes. Senders and receivers are separate
 * processes, each with its own event loop; every window is bounded in time and bytes.
 */
export async function benchWire(options: WireBenchOptions): Promise<WireRun> {
  const children: ChildProcess[] = [];
  try {
    const senders = new Map<WireLink, Sender>();
    const voxelfeed = await startSender(
      {
        link: 'voxelfeed',
        serveArgs: [
          '--data',
          options.dir,
          '--cache-bytes',
          '2GiB',
          '--log-level',
          'error',
          '--metrics-port',
          '0',
        ],
      },
      children,
    );
    senders.set('voxelfeed', voxelfeed);
    const receivers = await Promise.all(CLIENT_COUNTS.map(() => startReceiver(children)));
    const stream = (rank: number, worldSize: number, negatives: number): VoxelfeedStreamSpec => ({
      rank,
      worldSize,
      batchSize: options.batchSize,
      crop: options.crop,
      negatives,
    });
    // One pass over the data loads every series into the server's cache (each series is drawn about 8
    // times), and tells the size of one batch on the wire, which the other links then send.
    const first = receivers[0]!;
    const warmed = await first.request(
      {
        cmd: 'open',
        link: 'voxelfeed',
        port: voxelfeed.port,
        warmMs: 300_000,
        stream: stream(0, 1, options.series * 8),
      },
      'warm',
      330_000,
    );
    first.send({ cmd: 'close' });
    const messageBytes = warmed.messageBytes;
    if (!(messageBytes > 0)) throw new Error('the warm-up stream received no batch');
    for (const link of ['tcp', 'http2', 'grpc-js'] as const) {
      senders.set(link, await startSender({ link, messageBytes }, children));
    }
    // 25,000 batches: no window reaches the end of the epoch (the server allows up to 1,000,000 samples).
    const negatives = 200_000;
    const measure = async (link: WireLink, count: number): Promise<Window> => {
      const sender = senders.get(link)!;
      const active = receivers.slice(0, count);
      const windowMs = options.seconds * 1000;
      await Promise.all(
        active.map((receiver, rank) =>
          receiver.request(
            {
              cmd: 'open',
              link,
              port: sender.port,
              warmMs: Math.min(1000, windowMs / 2),
              ...(link === 'voxelfeed' ? { stream: stream(rank, count, negatives) } : {}),
            },
            'warm',
            60_000,
          ),
        ),
      );
      const before = await sender.mark();
      const results = await Promise.all(
        active.map((receiver) =>
          receiver.request(
            { cmd: 'measure', ms: windowMs, maxBytes: MAX_WINDOW_BYTES / count },
            'result',
            windowMs + 60_000,
          ),
        ),
      );
      const after = await sender.mark();
      return {
        bytes: results.reduce((sum, result) => sum + result.bytes, 0),
        seconds: Math.max(...results.map((result) => result.ms)) / 1000,
        cpuMs: after.cpuMs - before.cpuMs,
        gcMs: after.gcMs - before.gcMs,
        receiversCpuMs: results.reduce((sum, result) => sum + result.cpuMs, 0),
      };
    };
    const chain = Object.fromEntries(LINKS.map((link) => [link, [] as Window[]])) as Record<
      WireLink,
      Window[]
    >;
    const aggregate: Record<number, Window[]> = Object.fromEntries(CLIENT_COUNTS.map((count) => [count, []]));
    for (let round = 0; round < options.rounds; round++) {
      const forward = round % 2 === 0;
      for (const link of forward ? LINKS : [...LINKS].reverse()) chain[link].push(await measure(link, 1));
      for (const count of forward ? CLIENT_COUNTS : [...CLIENT_COUNTS].reverse()) {
        aggregate[count]!.push(await measure('voxelfeed', count));
      }
    }
    for (const child of children) child.send({ cmd: 'exit' });
    const assembly = await benchAssembly(options.dir, {
      seconds: Math.max(1, options.seconds / 2),
      batchSize: options.batchSize,
      crop: options.crop,
      rounds: options.rounds,
    });
    return { messageBytes, chain, aggregate, assembly };
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill();
  }
}

/** MB/s of a window. */
export function megabytesPerSecond(window: Window): number {
  return window.bytes / 1e6 / window.seconds;
}

/** The sender's CPU seconds per GB received. */
export function cpuSecondsPerGigabyte(window: Window): number {
  return window.cpuMs / 1000 / (window.bytes / 1e9);
}

interface Sender {
  readonly port: number;
  mark(): Promise<{ cpuMs: number; gcMs: number }>;
}

async function startSender(spec: WireSenderSpec, children: ChildProcess[]): Promise<Sender> {
  const child = fork(SENDER_SCRIPT, [JSON.stringify(spec)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  const next = reportsOf<WireSenderReport>(child, `the ${spec.link} sender`);
  const listening = await next('listening', 120_000);
  return {
    port: listening.port,
    mark: async () => {
      child.send({ cmd: 'mark' });
      return next('mark', 30_000);
    },
  };
}

interface Receiver {
  send(command: WireReceiverCommand): void;
  request<T extends WireReceiverReport['type']>(
    command: WireReceiverCommand,
    type: T,
    timeoutMs: number,
  ): Promise<Extract<WireReceiverReport, { type: T }>>;
}

async function startReceiver(children: ChildProcess[]): Promise<Receiver> {
  const child = fork(RECEIVER_SCRIPT, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  const next = reportsOf<WireReceiverReport>(child, 'a receiver');
  return {
    send: (command) => child.send(command),
    request: async (command, type, timeoutMs) => {
      const reply = next(type, timeoutMs);
      child.send(command);
      return reply;
    },
  };
}

/**
 * A function that waits (at most `timeoutMs`) for the child's next report of a type; a `failed` report, an
 * exit or the time running out rejects, naming `who`.
 */
function reportsOf<R extends { type: string }>(child: ChildProcess, who: string) {
  return <T extends R['type']>(type: T, timeoutMs: number) =>
    new Promise<Extract<R, { type: T }>>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      const onMessage = (message: R | { type: 'failed'; message: string }) => {
        if (message.type === 'failed') {
          cleanup();
          reject(new Error(`${who} failed: ${(message as { message: string }).message}`));
        } else if (message.type === type) {
          cleanup();
          resolve(message as Extract<R, { type: T }>);
        }
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`${who} exited with ${code} while waiting for "${type}"`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${who} sent no "${type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      child.on('message', onMessage);
      child.on('exit', onExit);
    });
}

/** The table and the JSON line of a run, with each of the targets met or not. */
export function reportWire(run: WireRun): { table: string; json: Record<string, unknown> } {
  const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const rate = (link: WireLink) => run.chain[link].map(megabytesPerSecond);
  const perRound = (link: WireLink, base: WireLink) =>
    run.chain[link].map((window, i) => megabytesPerSecond(window) / megabytesPerSecond(run.chain[base][i]!));
  const cpu = (windows: readonly Window[], of: 'cpuMs' | 'receiversCpuMs' = 'cpuMs') =>
    windows.reduce((sum, w) => sum + w[of], 0) / 1000 / (windows.reduce((sum, w) => sum + w.bytes, 0) / 1e9);
  // GC pauses are wall time: on a loaded machine a process descheduled mid-pause inflates them against its CPU
  // time, so the share of the window's wall time spent in pauses is shown too.
  const gcShare = (windows: readonly Window[]) =>
    windows.reduce((sum, w) => sum + w.gcMs, 0) / windows.reduce((sum, w) => sum + w.cpuMs, 0);
  const gcWallShare = (windows: readonly Window[]) =>
    windows.reduce((sum, w) => sum + w.gcMs, 0) / windows.reduce((sum, w) => sum + 1000 * w.seconds, 0);
  const percent = (value: number) => `${(100 * value).toFixed(1)}%`;
  const fixed = (value: number, digits: number) => Number(value.toFixed(digits));
  const range = (values: readonly number[], digits: number) =>
    `${mean(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}-${Math.max(...values).toFixed(digits)})`;

  const chainRows = LINKS.map((link) => [
    link,
    rate(link)
      .map((v) => v.toFixed(0))
      .join(' / '),
    mean(rate(link)).toFixed(0),
    cpu(run.chain[link]).toFixed(2),
    cpu(run.chain[link], 'receiversCpuMs').toFixed(2),
    percent(gcShare(run.chain[link])),
    percent(gcWallShare(run.chain[link])),
  ]);
  const overTcp = perRound('voxelfeed', 'tcp');
  const overGrpc = perRound('voxelfeed', 'grpc-js');
  const aggregateRates = CLIENT_COUNTS.map((count) => run.aggregate[count]!.map(megabytesPerSecond));
  const aggregateRows = CLIENT_COUNTS.map((count, i) => [
    `voxelfeed, ${count} client process${count === 1 ? '' : 'es'}`,
    aggregateRates[i]!.map((v) => v.toFixed(0)).join(' / '),
    mean(aggregateRates[i]!).toFixed(0),
    cpu(run.aggregate[count]!).toFixed(2),
    cpu(run.aggregate[count]!, 'receiversCpuMs').toFixed(2),
    percent(gcShare(run.aggregate[count]!)),
    percent(gcWallShare(run.aggregate[count]!)),
  ]);
  const { assembled, assembledPool, copied, copiedWorkingSet, batchBytes, sourceBytes, workingSetBytes } =
    run.assembly;
  const over = (rates: readonly number[], copies: readonly number[]) => rates.map((v, i) => v / copies[i]!);
  const assemblyRatios = over(assembled, copied);
  const assemblyRatio = mean(assemblyRatios);
  const threads = `${run.assembly.poolThreads} crop workers`;
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;
  const aggregateMeans = aggregateRates.map(mean);
  // "Not falling": each count's mean within 10% of the previous one's, or above it.
  const notFalling = aggregateMeans.every((value, i) => i === 0 || value >= 0.9 * aggregateMeans[i - 1]!);
  const cpuVoxelfeed = cpu(run.chain.voxelfeed);
  const targets = {
    one_stream_over_tcp_at_least_0_3: mean(overTcp) >= 0.3,
    one_stream_over_grpc_js_at_least_0_8: mean(overGrpc) >= 0.8,
    server_cpu_at_most_0_8_s_per_gb: cpuVoxelfeed <= 0.8,
    assembly_over_memcpy_at_least_0_25: assemblyRatio >= 0.25,
    aggregate_not_falling: notFalling,
  };
  const table = [
    `wire: messages of ${run.messageBytes.toLocaleString('en')} bytes (one batch), ${run.chain.tcp.length} alternating rounds`,
    formatTable(
      [
        'link (sender process -> receiver processes)',
        'MB/s per round',
        'mean MB/s',
        'sender CPU s/GB',
        'receivers CPU s/GB',
        'GC / CPU',
        'GC / wall',
      ],
      [...chainRows, ...aggregateRows],
    ),
    '',
    formatTable(
      ['ratio', 'mean (range over rounds)', 'target', 'met'],
      [
        [
          'voxelfeed / raw TCP',
          range(overTcp, 2),
          '>= 0.3',
          targets.one_stream_over_tcp_at_least_0_3 ? 'yes' : 'no',
        ],
        [
          'voxelfeed / plain grpc-js',
          range(overGrpc, 2),
          '>= 0.8',
          targets.one_stream_over_grpc_js_at_least_0_8 ? 'yes' : 'no',
        ],
        [
          'voxelfeed server CPU s/GB',
          cpuVoxelfeed.toFixed(2),
          '<= 0.8',
          targets.server_cpu_at_most_0_8_s_per_gb ? 'yes' : 'no',
        ],
        [
          `assembly, main thread / memcpy (batches/s vs copies/s of ${(batchBytes / 1e6).toFixed(2)} MB from ${mb(sourceBytes)})`,
          range(assemblyRatios, 3),
          '>= 0.25',
          targets.assembly_over_memcpy_at_least_0_25 ? 'yes' : 'no',
        ],
        [`assembly, ${threads} / the same memcpy`, range(over(assembledPool, copied), 3), '', ''],
        [
          `assembly, main thread / memcpy from ${mb(workingSetBytes)} (the data set)`,
          range(over(assembled, copiedWorkingSet), 3),
          '',
          '',
        ],
        [
          `assembly, ${threads} / memcpy from ${mb(workingSetBytes)}`,
          range(over(assembledPool, copiedWorkingSet), 3),
          '',
          '',
        ],
        [
          'aggregate 1 / 2 / 4 / 8 clients (mean MB/s)',
          aggregateMeans.map((v) => v.toFixed(0)).join(' / '),
          'not falling',
          notFalling ? 'yes' : 'no',
        ],
      ],
    ),
  ].join('\n');
  const json = {
    wire_message_bytes: run.messageBytes,
    wire_mb_per_s: Object.fromEntries(LINKS.map((link) => [link, rate(link).map(Math.round)])),
    wire_voxelfeed_over_tcp: fixed(mean(overTcp), 3),
    wire_voxelfeed_over_grpc_js: fixed(mean(overGrpc), 3),
    wire_cpu_s_per_gb: Object.fromEntries(LINKS.map((link) => [link, fixed(cpu(run.chain[link]), 3)])),
    wire_gc_share: Object.fromEntries(LINKS.map((link) => [link, fixed(gcShare(run.chain[link]), 3)])),
    wire_gc_wall_share: Object.fromEntries(
      LINKS.map((link) => [link, fixed(gcWallShare(run.chain[link]), 3)]),
    ),
    wire_aggregate_mb_per_s: Object.fromEntries(
      CLIENT_COUNTS.map((count, i) => [count, aggregateRates[i]!.map(Math.round)]),
    ),
    wire_aggregate_cpu_s_per_gb: Object.fromEntries(
      CLIENT_COUNTS.map((count) => [count, fixed(cpu(run.aggregate[count]!), 3)]),
    ),
    wire_receivers_cpu_s_per_gb: Object.fromEntries(
      LINKS.map((link) => [link, fixed(cpu(run.chain[link], 'receiversCpuMs'), 3)]),
    ),
    wire_aggregate_receivers_cpu_s_per_gb: Object.fromEntries(
      CLIENT_COUNTS.map((count) => [count, fixed(cpu(run.aggregate[count]!, 'receiversCpuMs'), 3)]),
    ),
    wire_assembly_batches_per_s: assembled.map((v) => fixed(v, 1)),
    wire_memcpy_copies_per_s: copied.map((v) => fixed(v, 1)),
    wire_assembly_over_memcpy: fixed(assemblyRatio, 3),
    wire_assembly_pool_threads: run.assembly.poolThreads,
    wire_assembly_pool_batches_per_s: assembledPool.map((v) => fixed(v, 1)),
    wire_memcpy_working_set_copies_per_s: copiedWorkingSet.map((v) => fixed(v, 1)),
    wire_assembly_pool_over_memcpy: fixed(mean(over(assembledPool, copied)), 3),
    wire_assembly_over_memcpy_working_set: fixed(mean(over(assembled, copiedWorkingSet)), 3),
    wire_assembly_pool_over_memcpy_working_set: fixed(mean(over(assembledPool, copiedWorkingSet)), 3),
    wire_targets: targets,
  };
  return { table, json };
}
