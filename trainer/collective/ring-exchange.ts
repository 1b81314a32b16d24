import { RingOp, type RingPiece } from '@voxelfeed/proto/collective';
import { CollectiveError } from './collective-error.js';
import type { RingInbox } from './ring-inbox.js';
import {
  chunkSpan,
  pieceSpans,
  receivedChunk,
  ringNeighbours,
  ringRounds,
  roundAction,
  type Span,
  sentChunk,
} from './ring-schedule.js';
import type { RingSender } from './ring-sender.js';

/** One rank's place in the ring: what it reads from its predecessor and writes to its successor. */
export interface RingLink {
  readonly rank: number;
  readonly worldSize: number;
  readonly inbox: RingInbox;
  readonly sender: RingSender;
  readonly peerTimeoutMs: number;
  readonly maxMessageBytes: number;
  /** "rank 2 (10.0.0.7:41233)". */
  describe(rank: number): string;
}

/**
 * Ring all-reduce (mean) in place, on the schedule of ring-schedule.ts. Receiving never waits for sending:
 * the pieces to forward are chained on a send queue, so ranks that all write at once cannot block each other.
 * A piece is encoded when its turn to be written comes; it cannot have changed by then, since its region is
 * only written again after it has gone round the ring back to this rank.
 */
export async function ringAllReduceMean(link: RingLink, data: Float32Array, step: number): Promise<void> {
  const { rank, worldSize } = link;
  const maxElements = Math.max(1, Math.floor(link.maxMessageBytes / 4));
  let sending: Promise<void> = Promise.resolve();
  const forward = (round: number, chunk: number, piece: Span) => {
    sending = sending.then(() =>
      link.sender.send(
        {
          op: RingOp.RING_OP_ALL_REDUCE,
          step: BigInt(step),
          label: '',
          total: BigInt(data.length),
          round,
          chunk,
          offset: BigInt(piece.start),
          data: Buffer.from(data.buffer, data.byteOffset + piece.start * 4, (piece.end - piece.start) * 4),
        },
        link.peerTimeoutMs,
      ),
    );
  };
  const rounds = ringRounds(worldSize);
  if (rounds === 0) return;
  const first = sentChunk(rank, 0, worldSize);
  for (const piece of pieceSpans(chunkSpan(data.length, worldSize, first), maxElements))
    forward(0, first, piece);
  // Keep a failed send from being an unhandled rejection while the receive loop is still running.
  sending.catch(() => {});
  const { previous } = ringNeighbours(rank, worldSize);
  for (let round = 0; round < rounds; round++) {
    const chunk = receivedChunk(rank, round, worldSize);
    const action = roundAction(round, worldSize);
    for (const piece of pieceSpans(chunkSpan(data.length, worldSize, chunk), maxElements)) {
      const received = await link.inbox.next(link.peerTimeoutMs);
      checkPiece(link, received, { step, total: data.length, round, chunk, piece }, previous);
      const values = float32View(received.data);
      const target = data.subarray(piece.start, piece.end);
      if (action === 'copy') {
        target.set(values);
      } else if (action === 'add') {
        for (let i = 0; i < target.length; i++) target[i] = values[i]! + target[i]!;
      } else {
        // Round the sum to float32 first, then divide: one correctly rounded float32 operation each.
        for (let i = 0; i < target.length; i++) target[i] = Math.fround(values[i]! + target[i]!) / worldSize;
      }
      if (round + 1 < rounds) forward(round + 1, chunk, piece);
    }
  }
  await sending;
}

/**
 * Rank 0's bytes along the ring, piece by piece: each rank forwards a piece as soon as it has it, and the
 * last rank (W - 1) keeps it. The first piece carries the length (an empty broadcast is one empty piece).
 */
export async function ringBroadcast(
  link: RingLink,
  data: Uint8Array | null,
  label: string,
): Promise<Uint8Array> {
  const { rank, worldSize } = link;
  const forwards = rank < worldSize - 1;
  let sending: Promise<void> = Promise.resolve();
  const forward = (total: number, offset: number, bytes: Uint8Array) => {
    sending = sending.then(() =>
      link.sender.send(
        {
          op: RingOp.RING_OP_BROADCAST,
          step: 0n,
          label,
          total: BigInt(total),
          round: 0,
          chunk: 0,
          offset: BigInt(offset),
          data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        },
        link.peerTimeoutMs,
      ),
    );
    sending.catch(() => {});
  };
  if (rank === 0) {
    if (data === null) {
      throw new CollectiveError(
        'INVALID_ARGUMENT',
        0,
        `broadcast "${label}": rank 0 passed no data; rank 0 gives the bytes, the other ranks pass null`,
      );
    }
    let offset = 0;
    do {
      const end = Math.min(data.length, offset + link.maxMessageBytes);
      forward(data.length, offset, data.subarray(offset, end));
      offset = end;
    } while (offset < data.length);
    await sending;
    return data;
  }
  const { previous } = ringNeighbours(rank, worldSize);
  let result: Uint8Array | null = null;
  let offset = 0;
  do {
    const piece = await link.inbox.next(link.peerTimeoutMs);
    if (piece.op !== RingOp.RING_OP_BROADCAST || piece.label !== label || Number(piece.offset) !== offset) {
      throw outOfStep(link, previous, describePiece(piece), `broadcast "${label}" at byte ${offset}`);
    }
    result ??= new Uint8Array(Number(piece.total));
    result.set(piece.data, offset);
    if (forwards) forward(result.length, offset, piece.data);
    offset += piece.data.length;
  } while (offset < (result?.length ?? 0));
  await sending;
  return result ?? new Uint8Array(0);
}

interface Expected {
  readonly step: number;
  readonly total: number;
  readonly round: number;
  readonly chunk: number;
  readonly piece: Span;
}

function checkPiece(link: RingLink, piece: RingPiece, expected: Expected, from: number): void {
  const here = `the all-reduce of step ${expected.step}`;
  if (piece.op !== RingOp.RING_OP_ALL_REDUCE || Number(piece.step) !== expected.step) {
    throw outOfStep(link, from, describePiece(piece), here);
  }
  if (Number(piece.total) !== expected.total) {
    throw new CollectiveError(
      'FAILED_PRECONDITION',
      from,
      `${link.describe(from)} all-reduces ${piece.total} values at step ${expected.step}, rank ${link.rank} ${expected.total}: every rank must pass the same number of values (the same model); start every rank with the same options`,
    );
  }
  const length = expected.piece.end - expected.piece.start;
  if (
    piece.round !== expected.round ||
    piece.chunk !== expected.chunk ||
    Number(piece.offset) !== expected.piece.start ||
    piece.data.length !== length * 4
  ) {
    throw new CollectiveError(
      'INTERNAL',
      from,
      `${link.describe(from)} sent round ${piece.round}, chunk ${piece.chunk}, offset ${piece.offset}, ${piece.data.length} bytes where rank ${link.rank} expected round ${expected.round}, chunk ${expected.chunk}, offset ${expected.piece.start}, ${length * 4} bytes at step ${expected.step}: the ranks run different versions of voxelfeed; run one version everywhere`,
    );
  }
}

function describePiece(piece: RingPiece): string {
  return piece.op === RingOp.RING_OP_BROADCAST
    ? `broadcast "${piece.label}"`
    : `the all-reduce of step ${piece.step}`;
}

function outOfStep(link: RingLink, from: number, theirs: string, ours: string): CollectiveError {
  return new CollectiveError(
    'FAILED_PRECONDITION',
    from,
    `${link.describe(from)} sent ${theirs} while rank ${link.rank} is in ${ours}: the ranks are out of step (each must make the same calls in the same order); start every rank with the same options`,
  );
}

/** The float32 values of a piece: a view when aligned, else a copy. */
function float32View(bytes: Buffer): Float32Array {
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  return new Float32Array(new Uint8Array(bytes).buffer);
}
