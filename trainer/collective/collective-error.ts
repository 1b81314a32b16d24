import { VoxelfeedError, type VoxelfeedErrorCode } from '@voxelfeed/common/voxelfeed-error.js';

/**
 * A process group failure, one line: which rank, where, what happened and what to do. `rank` is the rank held
 * responsible (the one lost, refused or out of step), null when no single rank is (a bad option of this rank).
 */
export class CollectiveError extends VoxelfeedError {
  readonly rank: number | null;

  constructor(code: VoxelfeedErrorCode, rank: number | null, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'CollectiveError';
    this.rank = rank;
  }
}

export function isCollectiveError(value: unknown): value is CollectiveError {
  return value instanceof CollectiveError;
}

/** What every rank is told once the job cannot go on. */
export const RESTART_HINT =
  'every rank stops: restart the job with --resume to continue from the last checkpoint';
