import { CollectiveError, RESTART_HINT } from '../../trainer/collective/collective-error.js';
import type { ProcessGroup } from '../../trainer/collective/process-group.js';

/**
 * W process groups in one process, for unit tests without sockets: `allReduceMean` waits until every rank has
 * called it for the step, then sums in rank order in float32 and divides once by W (as the ring does, in a
 * fixed order), so every rank gets the same bits. `lose(r)` makes every rank's `failure` and pending or later
 * exchange reject with an error naming rank r, as a lost rank does in the real group.
 */
export function inProcessGroups(worldSize: number): { groups: ProcessGroup[]; lose(rank: number): void } {
  let lost: CollectiveError | null = null;
  let loseAll: (error: CollectiveError) => void = () => {};
  const failure = new Promise<never>((_, reject) => {
    loseAll = reject;
  });
  failure.catch(() => {});
  const waiting: Array<() => void> = [];
  const rounds = new Map<
    string,
    {
      arrived: Map<number, Float32Array | Uint8Array | null>;
      done: Promise<void>;
      finish(): void;
      fail(error: Error): void;
    }
  >();
  const round = (key: string) => {
    let entry = rounds.get(key);
    if (entry === undefined) {
      let finish = () => {};
      let fail: (error: Error) => void = () => {};
      const done = new Promise<void>((resolve, reject) => {
        finish = resolve;
        fail = reject;
      });
      done.catch(() => {});
      entry = { arrived: new Map(), done, finish, fail };
      rounds.set(key, entry);
      waiting.push(() => entry!.fail(lost!));
    }
    return entry;
  };
  const groups = Array.from({ length: worldSize }, (_, rank): ProcessGroup => {
    let seconds = 0;
    // A step may take several exchanges (gradient buckets): the n-th call of a step meets every rank's n-th.
    const callsOfStep = new Map<number, number>();
    return {
      rank,
      worldSize,
      get allReduceSeconds() {
        return seconds;
      },
      failure,
      async allReduceMean(data, step) {
        if (lost !== null) throw lost;
        const started = performance.now();
        const call = callsOfStep.get(step) ?? 0;
        callsOfStep.set(step, call + 1);
        const entry = round(`step ${step} call ${call}`);
        entry.arrived.set(rank, data);
        if (entry.arrived.size === worldSize) {
          const all = [...entry.arrived.entries()]
            .sort(([a], [b]) => a - b)
            .map(([, values]) => values as Float32Array);
          const mean = new Float32Array(data.length);
          for (const values of all) {
            if (values.length !== data.length)
              throw new Error(`lengths differ: ${values.length} vs ${data.length}`);
            for (let i = 0; i < mean.length; i++) mean[i] = Math.fround(mean[i]! + values[i]!);
          }
          for (let i = 0; i < mean.length; i++) mean[i] = Math.fround(mean[i]! / worldSize);
          for (const values of all) values.set(mean);
          rounds.delete(`step ${step}`);
          entry.finish();
        }
        await entry.done;
        seconds += (performance.now() - started) / 1000;
      },
      async broadcast(data, label) {
        if (lost !== null) throw lost;
        const entry = round(`broadcast ${label}`);
        entry.arrived.set(rank, data);
        if (entry.arrived.size === worldSize) {
          rounds.delete(`broadcast ${label}`);
          entry.finish();
        }
        await entry.done;
        return (entry.arrived.get(0) as Uint8Array).slice();
      },
      async close() {},
    };
  });
  return {
    groups,
    lose(rank) {
      lost = new CollectiveError(
        'UNAVAILABLE',
        rank,
        `rank ${rank} (in process) left the job: ${RESTART_HINT}`,
      );
      loseAll(lost);
      for (const fail of waiting) fail();
    },
  };
}
