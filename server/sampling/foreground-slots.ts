import type { SamplingPolicy } from './types.js';

/** Slack for float32 shares: 0.33 or 1/3 sent as float32 must not round ceil(share * B) up by one. */
const SHARE_SLACK = 1e-6;

/** ceil(share * batchSize), the nodule-centred samples every rank's batch holds at least. */
export function foregroundSlots(share: number, batchSize: number): number {
  return Math.min(batchSize, Math.max(0, Math.ceil(share * batchSize - SHARE_SLACK)));
}

/**
 * Whether plan position `position` is one of the last ceil(share * B) slots of its batch (nnU-Net forces the
 * last samples of a batch too). Every rank's batch starts at a multiple of B in the plan (with or without rank
 * groups), so the slot is `position mod B`, the same on every rank, replica and start step.
 */
export function isForegroundSlot(
  policy: SamplingPolicy,
  batchSize: number | undefined,
  position: number,
): boolean {
  const share = policy.foregroundShare;
  if (share === undefined || share === 0) return false;
  if (batchSize === undefined) {
    throw new RangeError('isForegroundSlot: a foreground share needs the batch size');
  }
  return position % batchSize >= batchSize - foregroundSlots(share, batchSize);
}
