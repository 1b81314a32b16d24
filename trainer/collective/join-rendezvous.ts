import { type Client, type ClientDuplexStream, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import {
  CollectiveService,
  type ControlEvent,
  type ControlMessage,
  type Peer,
} from '@voxelfeed/proto/collective';
import { callMetadata } from './collective-credentials.js';
import { CollectiveError, RESTART_HINT } from './collective-error.js';

export interface ControlEvents {
  /** Rank 0 says a rank was lost: stop with `reason`. */
  abort(rank: number, reason: string): void;
  /** The control call broke without rank 0 closing: rank 0 is gone. */
  lost(detail: string): void;
  /** Rank 0 closed its process group. */
  shutdown(): void;
}

/** A rank's end of the control channel to rank 0. */
export interface ControlChannel {
  entered(step: number): void;
  fault(rank: number, reason: string, timeout: boolean, step: number): void;
  leave(): void;
}

export interface JoinOptions {
  readonly job: string;
  readonly rank: number;
  readonly worldSize: number;
  readonly fingerprint: string;
  readonly masterAddr: string;
  readonly masterPort: number;
  readonly startTimeoutMs: number;
  readonly token: string | undefined;
  /** The port of this rank's own Collective server. */
  readonly port: number;
  readonly signal: AbortSignal | undefined;
}

/**
 * Joins rank 0's rendezvous (waiting for rank 0 to come up, within the start-up timeout) and resolves with the
 * roster; the call stays open as the control channel. Rank 0's refusal becomes a CollectiveError with its words.
 */
export async function joinRendezvous(
  client: Client,
  options: JoinOptions,
  events: ControlEvents,
): Promise<{ roster: Peer[]; channel: ControlChannel }> {
  const master = `rank 0 (${options.masterAddr}:${options.masterPort})`;
  const started = performance.now();
  // grpc-js calls fail at once while nothing listens: wait for rank 0 to come up first.
  await new Promise<void>((resolve, reject) => {
    client.waitForReady(Date.now() + options.startTimeoutMs, (error) => {
      if (error === undefined || error === null) resolve();
      else
        reject(
          new CollectiveError(
            'UNAVAILABLE',
            0,
            `${master} did not answer within ${options.startTimeoutMs / 1000} s; start rank 0 with --master-port ${options.masterPort} on ${options.masterAddr}, check --master-addr, or raise --rendezvous-timeout`,
          ),
        );
    });
  });
  const remainingMs = Math.max(1, options.startTimeoutMs - (performance.now() - started));
  return new Promise((resolve, reject) => {
    const call: ClientDuplexStream<ControlMessage, ControlEvent> = client.makeBidiStreamRequest(
      CollectiveService.join.path,
      CollectiveService.join.requestSerialize,
      CollectiveService.join.responseDeserialize,
      callMetadata(options.token),
    );
    let started = false;
    let closedByRank0 = false;
    let leaving = false;
    const timer = setTimeout(() => {
      call.cancel();
      fail(
        new CollectiveError(
          'UNAVAILABLE',
          0,
          `${master} gave no roster within ${options.startTimeoutMs / 1000} s (it is not running, not reachable there, or still waits for other ranks); start rank 0 with --master-port ${options.masterPort} on ${options.masterAddr}, check --master-addr, or raise --rendezvous-timeout`,
        ),
      );
    }, remainingMs);
    const onAbort = () => {
      call.cancel();
      fail(new CollectiveError('UNAVAILABLE', null, 'the rendezvous was cancelled'));
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const fail = (error: CollectiveError) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      reject(error);
    };
    call.on('data', (event: ControlEvent) => {
      if (event.roster !== undefined && !started) {
        started = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        resolve({
          roster: event.roster.peers,
          channel: {
            entered: (step) => write({ entered: { step: BigInt(step) } }),
            fault: (rank, reason, timeout, step) =>
              write({ fault: { rank, reason, timeout, step: BigInt(step) } }),
            leave: () => {
              leaving = true;
              write({ leave: {} });
              call.end();
            },
          },
        });
      }
      if (event.abort !== undefined) events.abort(event.abort.rank, event.abort.reason);
      if (event.shutdown !== undefined) {
        closedByRank0 = true;
        events.shutdown();
      }
    });
    const write = (message: ControlMessage) => {
      if (call.writable) call.write(message);
    };
    call.on('error', (error: ServiceError) => {
      if (!started) {
        const refused = error.code !== GrpcStatus.UNAVAILABLE && error.code !== GrpcStatus.CANCELLED;
        fail(
          new CollectiveError(
            refused ? 'FAILED_PRECONDITION' : 'UNAVAILABLE',
            0,
            refused
              ? `${master} refused rank ${options.rank}: ${error.details}`
              : `${master} closed the rendezvous: ${error.details}`,
          ),
        );
        return;
      }
      if (!closedByRank0 && !leaving) {
        events.lost(`${master} left the job: its connection closed (${error.details}); ${RESTART_HINT}`);
      }
    });
    call.on('end', () => {
      if (started && !closedByRank0 && !leaving) {
        events.lost(`${master} left the job: its connection closed; ${RESTART_HINT}`);
      }
    });
    call.write({
      join: {
        job: options.job,
        rank: options.rank,
        worldSize: options.worldSize,
        fingerprint: options.fingerprint,
        port: options.port,
      },
    });
  });
}
