import assert from 'node:assert/strict';
import type { BatchSent, StreamObserver } from '../../server/batches/stream-observer.js';

/** What one stream's observer was told: the batches it held after each change, in order, and those sent. */
export interface HeldBatchesRecord {
  readonly observer: StreamObserver;
  readonly held: number[];
  readonly sent: BatchSent[];
}

/** An observer for the stream `streamId` alone (another id fails the test) that records what it is told. */
export function heldBatchesRecorder(streamId: string): HeldBatchesRecord {
  const held: number[] = [];
  const sent: BatchSent[] = [];
  const observer: StreamObserver = {
    onBatchesHeld: (stream, count) => {
      assert.equal(stream, streamId);
      held.push(count);
    },
    onBatch: (batch) => sent.push(batch),
  };
  return { observer, held, sent };
}
