import type { TrainerStats } from '@voxelfeed/proto';
import { VoxelfeedError } from '../errors.js';

export interface TrainerReport {
  readonly stats: TrainerStats;
  readonly receivedAtMs: number;
  readonly peer: string;
}

const MAX_JOB_LENGTH = 128;
const MAX_RANKS = 65_536;

/**
 * The latest report of every trainer rank, keyed by (job, rank). Reports carry running totals, so keeping the
 * latest loses nothing when one is dropped. A rank that stops reporting is forgotten after `expireAfterMs`,
 * so finished jobs do not linger in metrics.
 */
export class TrainerStatsStore {
  private readonly reports = new Map<string, TrainerReport>();

  constructor(
    private readonly expireAfterMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  record(stats: TrainerStats, peer: string): void {
    const problems = validateTrainerStats(stats);
    if (problems.length > 0) throw new VoxelfeedError('INVALID_ARGUMENT', problems.join('; '));
    if (this.reports.size >= MAX_RANKS && !this.reports.has(keyOf(stats))) {
      this.expire();
      if (this.reports.size >= MAX_RANKS) {
        throw new VoxelfeedError(
          'RESOURCE_EXHAUSTED',
          `the server tracks at most ${MAX_RANKS} trainer ranks`,
        );
      }
    }
    this.reports.set(keyOf(stats), { stats, receivedAtMs: this.now(), peer });
  }

  /** Every live report, oldest ranks first out: expired ones are dropped here. */
  current(): TrainerReport[] {
    this.expire();
    return [...this.reports.values()].sort(
      (a, b) => a.stats.job.localeCompare(b.stats.job) || a.stats.rank - b.stats.rank,
    );
  }

  private expire(): void {
    const cutoff = this.now() - this.expireAfterMs;
    for (const [key, report] of this.reports) if (report.receivedAtMs < cutoff) this.reports.delete(key);
  }
}

function keyOf(stats: TrainerStats): string {
  return `${stats.job}\u0000${stats.rank}`;
}

function validateTrainerStats(stats: TrainerStats): string[] {
  const problems: string[] = [];
  if (stats.job.length === 0 || stats.job.length > MAX_JOB_LENGTH) {
    problems.push(`job is "${stats.job.slice(0, 20)}"; name the job with 1 to ${MAX_JOB_LENGTH} characters`);
  }
  const worldSize = stats.worldSize === 0 ? 1 : stats.worldSize;
  if (stats.rank >= worldSize) {
    problems.push(`rank is ${stats.rank} but world_size is ${worldSize}; rank must be 0..${worldSize - 1}`);
  }
  for (const [field, value] of [
    ['gpu_idle_seconds', stats.gpuIdleSeconds],
    ['step_seconds', stats.stepSeconds],
    ['data_wait_seconds', stats.dataWaitSeconds],
  ] as const) {
    if (!Number.isFinite(value) || value < 0)
      problems.push(`${field} is ${value}; expected a finite number >= 0`);
  }
  return problems;
}
