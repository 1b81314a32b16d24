/**
 * The receiving side of the wire benchmark (bench/wire-chain.ts starts several, each a process with its own
 * event loop). On `open` it connects to one sender and receives as fast as the link goes, saying `warm`
 * once `warmMs` have passed (or the stream ended); on `measure` it counts the bytes that arrive in the next
 * `ms` milliseconds (or until `maxBytes`), closes the stream and reports. Nothing is kept: each message is
 * counted and dropped, as a consumer that keeps up would.
 * Usage (IPC only): node --import tsx bench/wire-receiver.ts
 */
import http2 from 'node:http2';
import net from 'node:net';
import { Client, type ClientReadableStream, credentials, Metadata } from '@grpc/grpc-js';
import { DType, StreamBatchesRequest } from '@voxelfeed/proto';
import { FEED_CHANNEL_OPTIONS } from '../client/channel-options.js';
import type { FeedBatch } from '../client/feed-batch.js';
import { FeedGrpcClient } from '../client/feed-service.js';
import { PLAIN_GRPC_PATH, WIRE_WINDOW_BYTES, type WireLink } from './wire-sender.js';

/** What one voxelfeed stream asks for: batches of 8 uint8 crops 16x96x96 with masks, as (b) does. */
export interface VoxelfeedStreamSpec {
  readonly rank: number;
  readonly worldSize: number;
  readonly batchSize: number;
  readonly crop: readonly [number, number, number];
  /** Negatives per epoch: the epoch's length (long for a measurement, one pass over the data to warm up). */
  readonly negatives: number;
}

export type WireReceiverCommand =
  | {
      readonly cmd: 'open';
      readonly link: WireLink;
      readonly port: number;
      readonly warmMs: number;
      readonly stream?: VoxelfeedStreamSpec;
    }
  | { readonly cmd: 'measure'; readonly ms: number; readonly maxBytes: number }
  | { readonly cmd: 'close' }
  | { readonly cmd: 'exit' };

export type WireReceiverReport =
  | { readonly type: 'warm'; readonly messageBytes: number; readonly ended: boolean }
  | {
      readonly type: 'result';
      readonly bytes: number;
      readonly ms: number;
      readonly messageBytes: number;
      /** This receiver process's CPU time (user and system) in the window. */
      readonly cpuMs: number;
    }
  | { readonly type: 'failed'; readonly message: string };

/** An open link: counts what arrives through `onBytes`; `close` stops it. */
interface OpenLink {
  close(): void;
}

let counted = 0;
let messageBytes = 0;
let ended = false;
let link: OpenLink | null = null;
let onArrival: (() => void) | null = null;
let onEnd: (() => void) | null = null;

const report = (message: WireReceiverReport) => process.send?.(message);

function arrived(bytes: number, message: boolean): void {
  counted += bytes;
  if (message) messageBytes = bytes;
  onArrival?.();
}

function finished(error?: Error): void {
  if (ended) return;
  ended = true;
  // A stream that the measurement itself cancelled is not a failure.
  if (error && link !== null) report({ type: 'failed', message: error.message });
  onEnd?.();
}

function open(command: Extract<WireReceiverCommand, { cmd: 'open' }>): OpenLink {
  const { port } = command;
  switch (command.link) {
    case 'tcp': {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('data', (chunk: Buffer) => arrived(chunk.length, false));
      socket.on('error', finished);
      socket.on('close', () => finished());
      return { close: () => socket.destroy() };
    }
    case 'http2': {
      const session = http2.connect(`http://127.0.0.1:${port}`, {
        settings: { initialWindowSize: WIRE_WINDOW_BYTES },
        maxSessionMemory: 1 << 20,
      });
      session.on('connect', () => session.setLocalWindowSize(WIRE_WINDOW_BYTES));
      session.on('error', finished);
      const request = session.request({ ':path': '/' });
      request.on('data', (chunk: Buffer) => arrived(chunk.length, false));
      request.on('error', finished);
      request.on('close', () => finished());
      return {
        close: () => {
          request.close();
          session.close();
        },
      };
    }
    case 'grpc-js': {
      const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure(), FEED_CHANNEL_OPTIONS);
      const call = client.makeServerStreamRequest(
        PLAIN_GRPC_PATH,
        (value: Buffer) => value,
        (bytes: Buffer) => bytes,
        Buffer.alloc(0),
      );
      return follow(call, (message: Buffer) => message.length, client);
    }
    case 'voxelfeed': {
      const spec = command.stream;
      if (spec === undefined) throw new Error('a voxelfeed link needs its stream request');
      const client = new FeedGrpcClient(
        `127.0.0.1:${port}`,
        credentials.createInsecure(),
        FEED_CHANNEL_OPTIONS,
      );
      const call = client.streamBatches(
        StreamBatchesRequest.fromPartial({
          seed: 1n,
          rank: spec.rank,
          worldSize: spec.worldSize,
          batchSize: spec.batchSize,
          cropSize: [...spec.crop],
          sampling: { samplesPerNodule: 1, negativesPerEpoch: spec.negatives },
          dtype: DType.DTYPE_UINT8,
          includeMask: true,
        }),
        new Metadata(),
      );
      return follow(call, (batch: FeedBatch) => batch.wireBytes, client);
    }
  }
}

function follow<T>(call: ClientReadableStream<T>, size: (message: T) => number, client: Client): OpenLink {
  call.on('data', (message: T) => arrived(size(message), true));
  call.on('error', (error: { code?: number; message: string }) =>
    error.code === 1 ? finished() : finished(new Error(error.message)),
  );
  call.on('end', () => finished());
  return {
    close: () => {
      call.cancel();
      client.close();
    },
  };
}

function closeLink(): void {
  const current = link;
  link = null;
  onArrival = null;
  onEnd = null;
  current?.close();
}

process.on('message', (command: WireReceiverCommand) => {
  if (command.cmd === 'open') {
    closeLink();
    counted = 0;
    messageBytes = 0;
    ended = false;
    const warm = () => {
      clearTimeout(timer);
      onEnd = null;
      report({ type: 'warm', messageBytes, ended });
    };
    const timer = setTimeout(warm, command.warmMs);
    onEnd = warm;
    link = open(command);
  } else if (command.cmd === 'measure') {
    counted = 0;
    const started = performance.now();
    const cpu = process.cpuUsage();
    const stop = () => {
      clearTimeout(timer);
      const ms = performance.now() - started;
      const bytes = counted;
      const { user, system } = process.cpuUsage(cpu);
      closeLink();
      report({ type: 'result', bytes, ms, messageBytes, cpuMs: (user + system) / 1000 });
    };
    const timer = setTimeout(stop, command.ms);
    onArrival = () => {
      if (counted >= command.maxBytes) stop();
    };
    onEnd = stop;
    if (ended) stop();
  } else if (command.cmd === 'close') {
    closeLink();
  } else {
    closeLink();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
