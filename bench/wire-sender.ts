/**
 * The sending side of one link of the wire benchmark (bench/wire-chain.ts starts it as a child process, so
 * it has an event loop of its own): raw TCP, Node http2, plain grpc-js or the voxelfeed server itself. It
 * listens on 127.0.0.1, tells its parent the port, and answers each `mark` with its CPU time and the time
 * V8 spent collecting garbage so far, so the parent can charge a measured window to this process alone.
 * Usage (IPC only): node --import tsx bench/wire-sender.ts '<WireSenderSpec as JSON>'
 */
import { once } from 'node:events';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';
import { Server, ServerCredentials, type ServerWritableStream, type sendUnaryData } from '@grpc/grpc-js';
import { parseServeConfig } from '../server/config/serve-config.js';
import { createLogger } from '../server/log/logger.js';
import { startServer } from '../server/main.js';

export type WireLink = 'tcp' | 'http2' | 'grpc-js' | 'voxelfeed';

export type WireSenderSpec =
  | { readonly link: 'tcp' | 'http2' | 'grpc-js'; readonly messageBytes: number }
  | { readonly link: 'voxelfeed'; readonly serveArgs: readonly string[] };

/** What a sender tells its parent. */
export type WireSenderReport =
  | { readonly type: 'listening'; readonly port: number }
  | { readonly type: 'mark'; readonly cpuMs: number; readonly gcMs: number };

/** The HTTP/2 windows of a voxelfeed client (client/channel-options.ts): 16 MiB per stream and connection. */
export const WIRE_WINDOW_BYTES = 16 * 1024 * 1024;

/** The plain grpc-js method: one server-streaming call whose messages are bytes, not decoded. */
export const PLAIN_GRPC_PATH = '/bench.Wire/Stream';

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as WireSenderSpec;
  let gcMs = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  }).observe({ entryTypes: ['gc'] });
  const port = await listen(spec);
  const send = (report: WireSenderReport) => process.send?.(report);
  process.on('message', (message: { cmd?: string }) => {
    if (message.cmd === 'mark') {
      const cpu = process.cpuUsage();
      // gc entries arrive on a later tick than the collections themselves: let the pending ones in first.
      setImmediate(() => send({ type: 'mark', cpuMs: (cpu.user + cpu.system) / 1000, gcMs }));
    } else if (message.cmd === 'exit') {
      process.exit(0);
    }
  });
  // The parent going away (a crash, Ctrl-C) ends this process too.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'listening', port });
}

function listen(spec: WireSenderSpec): Promise<number> {
  switch (spec.link) {
    case 'tcp':
      return listenTcp(Buffer.alloc(spec.messageBytes, 7));
    case 'http2':
      return listenHttp2(Buffer.alloc(spec.messageBytes, 7));
    case 'grpc-js':
      return listenGrpc(Buffer.alloc(spec.messageBytes, 7));
    case 'voxelfeed':
      return listenVoxelfeed(spec.serveArgs);
  }
}

/** The same buffer written again and again on each connection, waiting for 'drain', until it closes. */
async function listenTcp(message: Buffer): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    const pump = () => {
      while (!socket.destroyed && socket.write(message));
    };
    socket.on('drain', pump);
    pump();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** One response per stream: the same buffer written again and again until the client closes the stream. */
async function listenHttp2(message: Buffer): Promise<number> {
  const server = http2.createServer({ maxSessionMemory: 1 << 20 });
  server.on('stream', (stream) => {
    stream.on('error', () => stream.destroy());
    stream.respond({ ':status': 200 });
    const pump = () => {
      while (!stream.destroyed && !stream.closed && stream.write(message));
    };
    stream.on('drain', pump);
    pump();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/**
 * grpc-js as one of its users would stream bytes: a serializer that returns a Buffer built once, so grpc-js
 * does its usual work per message (frame it into a copy with the 5-byte header, then write), and the
 * handler awaits 'drain' as a well-behaved streaming handler does.
 */
async function listenGrpc(message: Buffer): Promise<number> {
  const server = new Server({ 'grpc.max_send_message_length': -1, 'grpc-node.max_session_memory': 1 << 20 });
  server.addService(
    {
      stream: {
        path: PLAIN_GRPC_PATH,
        requestStream: false,
        responseStream: true,
        requestSerialize: (value: Buffer) => value,
        requestDeserialize: (bytes: Buffer) => bytes,
        responseSerialize: (value: Buffer) => value,
        responseDeserialize: (bytes: Buffer) => bytes,
      },
    },
    {
      stream: (call: ServerWritableStream<Buffer, Buffer>) => {
        let open = true;
        call.on('cancelled', () => {
          open = false;
        });
        call.on('error', () => {
          open = false;
        });
        const pump = () => {
          while (open && call.write(message));
        };
        call.on('drain', pump);
        pump();
      },
    } as Record<
      string,
      (call: ServerWritableStream<Buffer, Buffer>, callback?: sendUnaryData<Buffer>) => void
    >,
  );
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) =>
      error ? reject(error) : resolve(port),
    ),
  );
}

/** The real server, built by the same composition root as `voxelfeed serve`, in this process. */
async function listenVoxelfeed(serveArgs: readonly string[]): Promise<number> {
  const config = parseServeConfig(['--host', '127.0.0.1', '--port', '0', ...serveArgs], {});
  if (config === 'help') throw new Error('voxelfeed serve printed its help instead of starting');
  const running = await startServer(config, process.env, createLogger(config.logLevel));
  return running.grpc.port;
}

await main();
