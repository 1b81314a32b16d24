import { setTimeout as delay } from 'node:timers/promises';
import { CollectiveError, RESTART_HINT } from './collective-error.js';
import type { ProcessGroup } from './process-group.js';
import { type RingLink, ringAllReduceMean, ringBroadcast } from './ring-exchange.js';
import { InboxFailure } from './ring-inbox.js';
import { ringNeighbours } from './ring-schedule.js';

/** What the group needs of the control channel, whichever rank hosts it. */
export interface GroupControl {
  entered(step: number): void;
  fault(rank: number, reason: string, timeout: boolean, step: number): void;
  /** Leave (rank r > 0) or tell every rank that rank 0 closes. */
  close(): void;
  /** Rank 0: wait (at most `timeoutMs`) for the other ranks to leave before telling them it closes. */
  othersGone?(timeoutMs: number): Promise<void>;
}

/**
 * The process group once the ring is connected: one operation at a time in call order, the first failure
 * kept and given to every pending and later call and to `failure`. A timeout only says that a neighbour fell
 * silent, so it is reported to rank 0, which knows which rank did not reach the step; rank 0's Abort is
 * awaited briefly before this rank names its silent neighbour itself.
 */
export class RingProcessGroup implements ProcessGroup {
  readonly rank: number;
  readonly worldSize: number;
  readonly failure: Promise<never>;
  allReduceSeconds = 0;
  private failedWith: CollectiveError | null = null;
  private rejectFailure: (error: CollectiveError) => void = () => {};
  private queue: Promise<unknown> = Promise.resolve();
  private step = 0;
  private busy = false;
  private closed = false;

  constructor(
    private readonly link: RingLink,
    private readonly control: GroupControl,
    private readonly release: () => Promise<void>,
  ) {
    this.rank = link.rank;
    this.worldSize = link.worldSize;
    this.failure = new Promise<never>((_, reject) => {
      this.rejectFailure = reject;
    });
    // Rejects for whoever awaits it; never an unhandled rejection for whoever does not.
    this.failure.catch(() => {});
  }

  allReduceMean(data: Float32Array, step: number): Promise<void> {
    return this.enqueue(step, async () => {
      this.control.entered(step);
      const started = performance.now();
      try {
        await ringAllReduceMean(this.link, data, step);
      } finally {
        this.allReduceSeconds += (performance.now() - started) / 1000;
      }
    });
  }

  broadcast(data: Uint8Array | null, label: string): Promise<Uint8Array> {
    return this.enqueue(this.step, () => ringBroadcast(this.link, data, label));
  }

  /** Stops the group with `error` (the first one counts). */
  fail(error: CollectiveError): void {
    if (this.failedWith !== null || this.closed) return;
    this.failedWith = error;
    this.link.inbox.close(error);
    this.link.sender.break(error);
    this.rejectFailure(error);
  }

  /** Rank 0 closed its group: only a problem for an exchange under way. */
  rank0Closed(): void {
    if (this.busy) {
      this.fail(
        new CollectiveError(
          'UNAVAILABLE',
          0,
          `${this.link.describe(0)} closed its process group while rank ${this.rank} exchanges step ${this.step}: the ranks took different numbers of steps; ${RESTART_HINT}`,
        ),
      );
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue.catch(() => {});
    // Rank 0's last exchange can end before its neighbours have their last pieces: let them finish first.
    if (this.failedWith === null) await this.control.othersGone?.(this.link.peerTimeoutMs);
    this.closed = true;
    // Leave first, so that rank 0 takes the streams that close next for a rank that left, not one lost.
    this.control.close();
    if (this.failedWith === null) {
      await this.link.sender.end(Math.min(this.link.peerTimeoutMs, 5000));
    } else {
      this.link.sender.cancel();
    }
    await this.release();
  }

  private enqueue<T>(step: number, run: () => Promise<T>): Promise<T> {
    const result = this.queue.then(async () => {
      if (this.closed) {
        throw new CollectiveError(
          'FAILED_PRECONDITION',
          null,
          'the process group is closed; start a new one',
        );
      }
      if (this.failedWith !== null) throw this.failedWith;
      this.step = step;
      this.busy = true;
      try {
        return await run();
      } catch (error) {
        throw await this.explain(error, step);
      } finally {
        this.busy = false;
      }
    });
    this.queue = result.catch(() => {});
    return result;
  }

  /** The CollectiveError an operation's failure becomes, after telling rank 0 (or hearing from it). */
  private async explain(error: unknown, step: number): Promise<CollectiveError> {
    if (this.failedWith !== null) return this.failedWith;
    const { previous, next } = ringNeighbours(this.rank, this.worldSize);
    if (error instanceof CollectiveError) {
      if (error.rank !== null) this.control.fault(error.rank, error.message, false, step);
      this.fail(error);
      return this.failedWith ?? error;
    }
    if (!(error instanceof InboxFailure)) {
      const wrapped = new CollectiveError(
        'INTERNAL',
        null,
        `the exchange of step ${step} failed: ${String(error)}`,
        {
          cause: error,
        },
      );
      this.fail(wrapped);
      return wrapped;
    }
    if (error.kind !== 'timeout') {
      // A neighbour whose stream broke may only have stopped because another rank was lost first: that rank's
      // control stream broke too, and rank 0's Abort naming it is on its way. Wait for it briefly before
      // accusing the neighbour.
      await Promise.race([this.failure.catch(() => {}), delay(Math.min(1000, this.link.peerTimeoutMs))]);
      if (this.failedWith !== null) return this.failedWith;
    }
    const neighbour = error.side === 'previous' ? previous : next;
    const reason =
      error.kind === 'timeout'
        ? `${this.link.describe(neighbour)} did not answer rank ${this.rank} in the exchange of step ${step}: ${error.message} (peer timeout); ${RESTART_HINT}`
        : error.kind === 'ended'
          ? `${this.link.describe(neighbour)} closed its process group while rank ${this.rank} exchanges step ${step}: the ranks took different numbers of steps; ${RESTART_HINT}`
          : `${this.link.describe(neighbour)} left the job at step ${step}: ${error.message}; ${RESTART_HINT}`;
    this.control.fault(neighbour, reason, error.kind === 'timeout', step);
    if (error.kind === 'timeout') {
      // Rank 0 knows better (which rank never reached this step, or did not time out itself): wait for its
      // Abort. No answer at all means that rank 0 is the one that stopped.
      await Promise.race([this.failure.catch(() => {}), delay(Math.min(5000, this.link.peerTimeoutMs))]);
      if (this.failedWith === null && this.rank !== 0 && neighbour !== 0) {
        this.fail(
          new CollectiveError(
            'UNAVAILABLE',
            0,
            `${this.link.describe(0)} stopped answering: rank ${this.rank} waited on ${this.link.describe(neighbour)} for the peer timeout in the exchange of step ${step} and rank 0 did not say which rank stopped; ${RESTART_HINT}`,
          ),
        );
      }
    }
    this.fail(new CollectiveError('UNAVAILABLE', neighbour, reason));
    return this.failedWith ?? new CollectiveError('UNAVAILABLE', neighbour, reason);
  }
}
