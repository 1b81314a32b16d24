import { status as GrpcStatus, type ServerDuplexStream } from '@grpc/grpc-js';
import type { ControlEvent, ControlMessage, JoinRequest, Peer } from '@voxelfeed/proto/collective';
import { CollectiveError, RESTART_HINT } from './collective-error.js';
import { peerHost } from './peer-host.js';

/** How long rank 0 gathers the timeouts of one stall before naming the silent rank. */
const TIMEOUT_WINDOW_MS = 1500;

type JoinCall = ServerDuplexStream<ControlMessage, ControlEvent>;

interface Member {
  readonly peer: Peer;
  readonly call: JoinCall;
  left: boolean;
}

export interface RendezvousHostOptions {
  readonly job: string;
  readonly worldSize: number;
  readonly fingerprint: string;
  readonly masterAddr: string;
  readonly port: number;
  readonly peerTimeoutMs: number;
  /** A rank was lost (or reported a fault): every rank, this one included, must stop with `reason`. */
  readonly onAbort: (rank: number, reason: string) => void;
}

/**
 * Rank 0's side of the rendezvous and the control channel. It admits one Join call per rank (refusing other
 * jobs, world sizes, fingerprints, ranks out of range or taken), answers every rank with the roster once all
 * have joined, then keeps the calls open: a call that breaks, or a fault a rank reports, makes it send Abort to
 * every rank. It also follows the step each rank last entered, to tell who stopped when a rank times out.
 */
export class RendezvousHost {
  private readonly members = new Map<number, Member>();
  private readonly refusals: string[] = [];
  private readonly entered = new Map<number, number>();
  private gathered: ((peers: Peer[]) => void) | null = null;
  private failGather: ((error: CollectiveError) => void) | null = null;
  private started = false;
  /** Called whenever a member leaves or is lost, so `othersGone` can wait for the last. */
  private onDeparture: (() => void) | null = null;
  private aborted = false;
  private closing = false;
  /** Timeouts reported for the current stall: reporter -> the neighbour it waited on. */
  private readonly timeouts = new Map<number, { rank: number; reason: string }>();
  private timeoutWindow: NodeJS.Timeout | undefined = undefined;

  constructor(private readonly options: RendezvousHostOptions) {}

  /** "rank 2 (10.0.0.7:41233)". */
  describe(rank: number): string {
    if (rank === 0) return `rank 0 (${this.options.masterAddr}:${this.options.port})`;
    const peer = this.members.get(rank)?.peer;
    return peer === undefined ? `rank ${rank}` : `rank ${rank} (${peer.host}:${peer.port})`;
  }

  /** The roster once every rank has joined; rejects after `timeoutMs` naming the ranks that did not. */
  gather(timeoutMs: number, signal?: AbortSignal): Promise<Peer[]> {
    return new Promise<Peer[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        const missing = Array.from({ length: this.options.worldSize - 1 }, (_, i) => i + 1).filter(
          (rank) => !this.members.has(rank),
        );
        const refused = this.refusals.length > 0 ? ` (refused: ${this.refusals.join('; ')})` : '';
        this.abortGather(
          new CollectiveError(
            'UNAVAILABLE',
            missing[0] ?? null,
            `rank${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${this.options.worldSize} did not join job "${this.options.job}" at ${this.options.masterAddr}:${this.options.port} within ${timeoutMs / 1000} s${refused}; start them with --master-addr ${this.options.masterAddr} --master-port ${this.options.port}, or raise --rendezvous-timeout`,
          ),
        );
      }, timeoutMs);
      const onAbort = () =>
        this.abortGather(new CollectiveError('UNAVAILABLE', null, 'the rendezvous was cancelled'));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.gathered = (peers) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(peers);
      };
      this.failGather = (error) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      };
      this.maybeComplete();
    });
  }

  handleJoin(call: JoinCall): void {
    let rank: number | null = null;
    call.on('data', (message: ControlMessage) => {
      if (rank === null) {
        if (message.join === undefined) {
          refuse(call, GrpcStatus.INVALID_ARGUMENT, 'the first message of Join must be a JoinRequest');
          return;
        }
        rank = this.admit(call, message.join);
        return;
      }
      if (message.entered !== undefined) this.entered.set(rank, Number(message.entered.step));
      if (message.fault !== undefined) this.fault(rank, message.fault);
      if (message.leave !== undefined) {
        const member = this.members.get(rank);
        if (member !== undefined) member.left = true;
        this.onDeparture?.();
      }
    });
    const lost = () => {
      const member = rank === null ? undefined : this.members.get(rank);
      if (rank === null || member === undefined || member.call !== call || member.left || this.closing)
        return;
      if (!this.started) {
        // Before the roster: the slot frees, and a restarted rank may take it.
        this.members.delete(rank);
        return;
      }
      const step = this.entered.get(rank);
      this.abort(
        rank,
        `${this.describe(rank)} left the job${step === undefined ? '' : ` at step ${step}`}: its connection closed; ${RESTART_HINT}`,
      );
    };
    const departed = () => {
      lost();
      this.onDeparture?.();
    };
    call.on('error', departed);
    call.on('cancelled', departed);
    call.on('end', () => {
      lost();
      call.end();
      this.onDeparture?.();
    });
  }

  /** This rank (0) enters the exchange of `step`. */
  enter(step: number): void {
    this.entered.set(0, step);
  }

  /**
   * A fault seen by `from` (0: this rank). A timeout only says that a neighbour fell silent, and while one rank
   * hangs every other rank soon times out waiting on its own neighbour. So: a rank that has not even entered
   * that step is named at once; otherwise the timeouts reported within a short window are gathered, and the
   * rank named by some but reporting none itself (the end of the chain of waits) is the one that stopped.
   */
  fault(
    from: number,
    fault: { rank: number; reason: string; timeout: boolean; step: bigint | number },
  ): void {
    const step = Number(fault.step);
    if (!fault.timeout) {
      this.abort(fault.rank, fault.reason);
      return;
    }
    const laggard = Array.from({ length: this.options.worldSize }, (_, r) => r).find(
      (r) => (this.entered.get(r) ?? -1) < step,
    );
    if (laggard !== undefined) {
      this.abort(
        laggard,
        `${this.describe(laggard)} did not reach the exchange of step ${step} within the peer timeout (${this.options.peerTimeoutMs / 1000} s): it hangs or is far slower than the others (raise --peer-timeout if it is only slow); ${RESTART_HINT}`,
      );
      return;
    }
    this.timeouts.set(from, { rank: fault.rank, reason: fault.reason });
    if (this.timeouts.size >= this.options.worldSize - 1) this.decideTimeouts();
    else this.timeoutWindow ??= setTimeout(() => this.decideTimeouts(), TIMEOUT_WINDOW_MS);
  }

  private decideTimeouts(): void {
    clearTimeout(this.timeoutWindow);
    const reports = [...this.timeouts.values()];
    const silent = reports.find((report) => !this.timeouts.has(report.rank)) ?? reports[0];
    if (silent !== undefined) this.abort(silent.rank, silent.reason);
  }

  /** Abort to every rank still connected, then to this one. Only the first counts. */
  abort(rank: number, reason: string): void {
    if (this.aborted || this.closing) return;
    this.aborted = true;
    for (const member of this.members.values()) {
      if (member.left) continue;
      member.call.write({ abort: { rank, reason } });
    }
    this.options.onAbort(rank, reason);
  }

  /**
   * Resolves once every other rank has left (or its call ended), or after `timeoutMs`: rank 0 finishing its
   * last exchange does not mean its neighbours have received their last pieces, so its Shutdown waits for
   * them rather than failing an exchange still under way. An aborted job does not wait.
   */
  async othersGone(timeoutMs: number): Promise<void> {
    const gone = () =>
      this.aborted || [...this.members.values()].every((member) => member.left || !member.call.writable);
    if (gone()) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(finish, timeoutMs);
      function finish() {
        clearTimeout(timer);
        resolve();
      }
      this.onDeparture = () => {
        if (gone()) finish();
      };
    });
    this.onDeparture = null;
  }

  /** Tells every rank that rank 0 closes, and ends the calls. */
  close(): void {
    this.closing = true;
    clearTimeout(this.timeoutWindow);
    for (const member of this.members.values()) {
      if (member.call.writable) {
        member.call.write({ shutdown: {} });
        member.call.end();
      }
    }
    this.abortGather(
      new CollectiveError('UNAVAILABLE', null, 'the process group was closed during the rendezvous'),
    );
  }

  private admit(call: JoinCall, join: JoinRequest): number | null {
    const { job, worldSize, fingerprint } = this.options;
    const who = `rank ${join.rank} (${peerHost(call.getPeer())})`;
    if (join.job !== job) {
      this.refusals.push(`${who} of job "${join.job}"`);
      refuse(
        call,
        GrpcStatus.FAILED_PRECONDITION,
        `rank 0 at ${this.options.masterAddr}:${this.options.port} hosts job "${job}", not "${join.job}"; give every rank of a job the same job name, or --master-addr/--master-port of your own job's rank 0`,
      );
      return null;
    }
    if (join.worldSize !== worldSize) {
      this.failAll(
        call,
        `${who} was started with world size ${join.worldSize}, rank 0 with ${worldSize}; start every rank with the same --world-size`,
      );
      return null;
    }
    if (join.fingerprint !== fingerprint) {
      this.failAll(
        call,
        `${who} has the options fingerprint ${clip(join.fingerprint)}, rank 0 ${clip(fingerprint)}: the options every rank must agree on (model, batch size, seed, data set, ...) differ; start every rank with the same options`,
      );
      return null;
    }
    if (!Number.isInteger(join.rank) || join.rank < 1 || join.rank >= worldSize) {
      this.refusals.push(`${who} out of range`);
      refuse(
        call,
        GrpcStatus.OUT_OF_RANGE,
        `rank ${join.rank} is out of range for world size ${worldSize} (ranks 1 to ${worldSize - 1} join rank 0); give each rank a distinct --rank from 0 to ${worldSize - 1}`,
      );
      return null;
    }
    if (this.members.has(join.rank) || this.started) {
      this.refusals.push(`a second ${who}`);
      refuse(
        call,
        GrpcStatus.ALREADY_EXISTS,
        `rank ${join.rank} has already joined job "${job}" (from ${this.describe(join.rank)}); give each rank a distinct --rank from 0 to ${worldSize - 1}`,
      );
      return null;
    }
    const peer: Peer = { rank: join.rank, host: peerHost(call.getPeer()), port: join.port };
    this.members.set(join.rank, { peer, call, left: false });
    this.maybeComplete();
    return join.rank;
  }

  private maybeComplete(): void {
    if (this.started || this.gathered === null || this.members.size < this.options.worldSize - 1) return;
    this.started = true;
    const peers: Peer[] = [
      { rank: 0, host: this.options.masterAddr, port: this.options.port },
      ...[...this.members.values()].map((member) => member.peer).sort((a, b) => a.rank - b.rank),
    ];
    for (const member of this.members.values()) member.call.write({ roster: { peers } });
    this.gathered(peers);
  }

  /** A refusal that dooms the job: the caller and every rank already there get it, and rank 0 fails. */
  private failAll(call: JoinCall, message: string): void {
    refuse(call, GrpcStatus.FAILED_PRECONDITION, message);
    this.abortGather(new CollectiveError('FAILED_PRECONDITION', null, message));
  }

  private abortGather(error: CollectiveError): void {
    if (this.started && !this.closing) return;
    const fail = this.failGather;
    this.failGather = null;
    this.gathered = null;
    if (!this.started) {
      for (const member of this.members.values()) refuse(member.call, grpcCode(error), error.message);
    }
    fail?.(error);
  }
}

function refuse(call: JoinCall, code: GrpcStatus, details: string): void {
  call.emit('error', { code, details });
}

function grpcCode(error: CollectiveError): GrpcStatus {
  return error.code === 'UNAVAILABLE' ? GrpcStatus.UNAVAILABLE : GrpcStatus.FAILED_PRECONDITION;
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
