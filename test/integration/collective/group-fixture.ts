import { freeLoopbackPort } from '../../../common/free-loopback-port.js';
import type { ProcessGroup, ProcessGroupOptions } from '../../../trainer/collective/process-group.js';
import { startProcessGroup } from '../../../trainer/collective/process-group.js';

export type RankOverrides = (rank: number) => Partial<ProcessGroupOptions>;

/** The options of rank `rank` of a group on 127.0.0.1 whose rank 0 listens on `masterPort`. */
export function rankOptions(
  rank: number,
  worldSize: number,
  masterPort: number,
  overrides: Partial<ProcessGroupOptions> = {},
): ProcessGroupOptions {
  return {
    rank,
    worldSize,
    masterAddr: '127.0.0.1',
    masterPort,
    bindHost: '127.0.0.1',
    job: 'test-job',
    fingerprint: 'model=tiny batch=2 seed=7',
    startTimeoutMs: 20_000,
    peerTimeoutMs: 10_000,
    ...overrides,
  };
}

/** Starts all ranks of a group in this process; every rank's start settles (fulfilled or not). */
export async function startGroups(
  worldSize: number,
  overrides: RankOverrides = () => ({}),
): Promise<PromiseSettledResult<ProcessGroup>[]> {
  const port = await freeLoopbackPort();
  return Promise.allSettled(
    Array.from({ length: worldSize }, (_, rank) =>
      startProcessGroup(rankOptions(rank, worldSize, port, overrides(rank))),
    ),
  );
}

/** The groups of a start where every rank must have succeeded. */
export function fulfilled(results: PromiseSettledResult<ProcessGroup>[]): ProcessGroup[] {
  return results.map((result) => {
    if (result.status === 'rejected') throw result.reason;
    return result.value;
  });
}

export async function closeAll(groups: readonly ProcessGroup[]): Promise<void> {
  await Promise.all(groups.map((group) => group.close()));
}
