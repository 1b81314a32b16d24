import { Client, status as GrpcStatus, Server, type ServerDuplexStream } from '@grpc/grpc-js';
import {
  CollectiveService,
  type ControlEvent,
  type ControlMessage,
  type Peer,
} from '@voxelfeed/proto/collective';
import {
  callMetadata,
  channelCredentials,
  channelOptions,
  serverCredentials,
  tokenRefusal,
} from './collective-credentials.js';
import { CollectiveError } from './collective-error.js';
import { joinRendezvous } from './join-rendezvous.js';
import type { ProcessGroup, ProcessGroupOptions } from './process-group.js';
import { RendezvousHost } from './rendezvous-host.js';
import { RingInbox } from './ring-inbox.js';
import { type GroupControl, RingProcessGroup } from './ring-process-group.js';
import { ringNeighbours } from './ring-schedule.js';
import { RingSender, type SuccessorCall } from './ring-sender.js';
import { singleProcessGroup } from './single-process-group.js';
import { validateProcessGroupOptions } from './validate-process-group-options.js';

const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * Starts this rank's part of the process group: binds its Collective server (rank 0 on --master-port, the
 * others on a free port), meets every rank at rank 0 within the start-up timeout, connects to its ring
 * successor and waits for its predecessor. World size 1 needs no network: it is `singleProcessGroup()`.
 */
export async function startProcessGroup(options: ProcessGroupOptions): Promise<ProcessGroup> {
  validateProcessGroupOptions(options);
  if (options.worldSize === 1) return singleProcessGroup();
  const { rank, worldSize, token } = options;
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const started = performance.now();
  const remaining = () => Math.max(1, options.startTimeoutMs - (performance.now() - started));
  const { previous, next } = ringNeighbours(rank, worldSize);
  let group: RingProcessGroup | null = null;
  let roster: Peer[] = [];
  const describe = (r: number) => {
    const peer = roster.find((p) => p.rank === r);
    return peer === undefined ? `rank ${r}` : `rank ${r} (${peer.host}:${peer.port})`;
  };

  // A neighbour's stream that breaks fails the exchange under way or the next one; between exchanges a rank
  // that closed and one that died look alike here, so rank 0 (which gets each rank's Leave) tells them apart.
  const inbox = new RingInbox(2 * maxMessageBytes);
  const sender = new RingSender();
  const host =
    rank === 0
      ? new RendezvousHost({
          job: options.job,
          worldSize,
          fingerprint: options.fingerprint,
          masterAddr: options.masterAddr,
          port: options.masterPort,
          peerTimeoutMs: options.peerTimeoutMs,
          onAbort: (lostRank, reason) => group?.fail(new CollectiveError('UNAVAILABLE', lostRank, reason)),
        })
      : null;

  const server = new Server(channelOptions(options, maxMessageBytes));
  // Pieces are encoded by the sender as they are written (ring-sender.ts): the stream passes the bytes on.
  server.addService(
    {
      ...CollectiveService,
      exchange: { ...CollectiveService.exchange, responseSerialize: (bytes: Buffer) => bytes },
    },
    {
      join: (call: ServerDuplexStream<ControlMessage, ControlEvent>) => {
        const refusal = tokenRefusal(call.metadata, token);
        if (refusal !== null) {
          call.emit('error', { code: GrpcStatus.UNAUTHENTICATED, details: refusal });
          return;
        }
        if (host === null) {
          call.emit('error', {
            code: GrpcStatus.FAILED_PRECONDITION,
            details: `this is rank ${rank}, not rank 0: --master-addr and --master-port must name rank 0`,
          });
          return;
        }
        host.handleJoin(call);
      },
      exchange: (call: SuccessorCall) => {
        const refusal = tokenRefusal(call.metadata, token);
        if (refusal !== null) {
          call.emit('error', { code: GrpcStatus.UNAUTHENTICATED, details: refusal });
          return;
        }
        const hello = call.request;
        if (hello.job !== options.job || hello.rank !== next || sender.isAttached) {
          call.emit('error', {
            code: GrpcStatus.PERMISSION_DENIED,
            details: `rank ${rank} of job "${options.job}" streams to rank ${next} only, once (rank ${hello.rank} of job "${hello.job}" asked)`,
          });
          return;
        }
        sender.attach(call);
      },
    },
  );
  const bindHost = options.bindHost ?? '0.0.0.0';
  const bindPort = rank === 0 ? options.masterPort : 0;
  const port = await new Promise<number>((resolve, reject) => {
    const address = bindHost.includes(':') ? `[${bindHost}]:${bindPort}` : `${bindHost}:${bindPort}`;
    server.bindAsync(address, serverCredentials(options), (error, bound) => {
      if (error === null) resolve(bound);
      else
        reject(
          new CollectiveError(
            'UNAVAILABLE',
            null,
            `rank ${rank} cannot listen on ${address} (${error.message}); ${rank === 0 ? 'choose a free --master-port' : 'check the bind host'}`,
          ),
        );
    });
  });
  const credentials = channelCredentials(options);
  const channelOpts = channelOptions(options, maxMessageBytes);
  const clients: Client[] = [];
  const release = async () => {
    for (const client of clients) client.close();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 2000);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  };

  try {
    let control: GroupControl;
    if (host !== null) {
      roster = await host.gather(options.startTimeoutMs, options.signal);
      control = {
        entered: (step) => host.enter(step),
        fault: (r, reason, timeout, step) => host.fault(0, { rank: r, reason, timeout, step }),
        close: () => host.close(),
        othersGone: (timeoutMs) => host.othersGone(timeoutMs),
      };
    } else {
      const masterClient = new Client(
        `${options.masterAddr}:${options.masterPort}`,
        credentials,
        channelOpts,
      );
      clients.push(masterClient);
      const joined = await joinRendezvous(
        masterClient,
        {
          job: options.job,
          rank,
          worldSize,
          fingerprint: options.fingerprint,
          masterAddr: options.masterAddr,
          masterPort: options.masterPort,
          startTimeoutMs: options.startTimeoutMs,
          token,
          port,
          signal: options.signal,
        },
        {
          abort: (lostRank, reason) => group?.fail(new CollectiveError('UNAVAILABLE', lostRank, reason)),
          lost: (detail) => group?.fail(new CollectiveError('UNAVAILABLE', 0, detail)),
          shutdown: () => group?.rank0Closed(),
        },
      );
      roster = joined.roster;
      control = { ...joined.channel, close: () => joined.channel.leave() };
    }

    const predecessor = roster.find((peer) => peer.rank === previous);
    if (predecessor === undefined) {
      throw new CollectiveError('INTERNAL', previous, `the roster from rank 0 lacks rank ${previous}`);
    }
    const ringClient = new Client(`${predecessor.host}:${predecessor.port}`, credentials, channelOpts);
    clients.push(ringClient);
    await new Promise<void>((resolve, reject) => {
      ringClient.waitForReady(Date.now() + remaining(), (error) => {
        if (error === undefined || error === null) resolve();
        else
          reject(
            new CollectiveError(
              'UNAVAILABLE',
              previous,
              `rank ${rank} cannot reach ${describe(previous)} (${error.message}); check that the ranks can reach each other on any TCP port`,
            ),
          );
      });
    });
    const serializeHello = CollectiveService.exchange.requestSerialize;
    inbox.attach(
      ringClient.makeServerStreamRequest(
        CollectiveService.exchange.path,
        serializeHello,
        CollectiveService.exchange.responseDeserialize,
        { job: options.job, rank },
        callMetadata(token),
        {},
      ),
    );

    const link = {
      rank,
      worldSize,
      inbox,
      sender,
      peerTimeoutMs: options.peerTimeoutMs,
      maxMessageBytes,
      describe,
    };
    group = new RingProcessGroup(link, control, release);
    const ringTimeout = (who: number) => () =>
      new CollectiveError(
        'UNAVAILABLE',
        who,
        `the ring between ${describe(previous)}, rank ${rank} and ${describe(next)} was not connected within ${options.startTimeoutMs / 1000} s${inbox.refusal === null ? '' : ` (rank ${previous} refused this rank: ${inbox.refusal})`}; check that the ranks can reach each other on any TCP port, or raise --rendezvous-timeout`,
      );
    await waitFor(sender.attached, remaining(), ringTimeout(next));
    await waitFor(inbox.attached, remaining(), ringTimeout(previous));
    options.signal?.addEventListener('abort', () => void group?.close(), { once: true });
    return group;
  } catch (error) {
    host?.close();
    await release();
    throw error;
  }
}

async function waitFor(promise: Promise<void>, timeoutMs: number, timeoutError: () => Error): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timeoutError()), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
