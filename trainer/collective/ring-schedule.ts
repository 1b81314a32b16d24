/**
 * The ring all-reduce schedule, pure: which chunk a rank sends and receives in each round, where chunks and
 * their pieces start and end, and what a rank does with what it receives. It depends only on (world size,
 * rank, length), so every rank computes the same plan and the sums run in the same order on every run.
 *
 * Reduce-scatter then all-gather over W ranks is 2 (W - 1) rounds. In round t rank r sends chunk (r - t) mod W
 * to rank r + 1 and receives chunk (r - 1 - t) mod W from rank r - 1, which it sends on in round t + 1: so a
 * rank can forward each piece as soon as it has handled it, and the rounds overlap piece by piece. Chunk c is
 * summed along the ring from rank c: ((x_c + x_{c+1}) + x_{c+2}) + ... + x_{c-1}, divided by W at rank c - 1
 * (one float32 division, correctly rounded), and the all-gather copies those bits to every other rank.
 */

/** Elements [start, end) of the buffer. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** What a rank does with a received piece. */
export type RoundAction = 'add' | 'add-and-divide' | 'copy';

function mod(value: number, modulus: number): number {
  return ((value % modulus) + modulus) % modulus;
}

/** The rounds of one all-reduce: 0 for a single rank. */
export function ringRounds(worldSize: number): number {
  return 2 * (worldSize - 1);
}

/** Chunk `chunk` of a buffer of `length` elements cut into `worldSize` chunks of sizes differing by at most 1. */
export function chunkSpan(length: number, worldSize: number, chunk: number): Span {
  return {
    start: Math.floor((chunk * length) / worldSize),
    end: Math.floor(((chunk + 1) * length) / worldSize),
  };
}

/** A span cut into pieces of at most `maxElements` (an empty span has no piece). */
export function pieceSpans(span: Span, maxElements: number): Span[] {
  const pieces: Span[] = [];
  for (let start = span.start; start < span.end; start += maxElements) {
    pieces.push({ start, end: Math.min(span.end, start + maxElements) });
  }
  return pieces;
}

/** The chunk rank `rank` sends in round `round`. */
export function sentChunk(rank: number, round: number, worldSize: number): number {
  return mod(rank - round, worldSize);
}

/** The chunk rank `rank` receives in round `round` (the one it sends in round `round + 1`). */
export function receivedChunk(rank: number, round: number, worldSize: number): number {
  return mod(rank - 1 - round, worldSize);
}

/** Reduce-scatter rounds add; the last of them also divides by W; all-gather rounds copy. */
export function roundAction(round: number, worldSize: number): RoundAction {
  if (round < worldSize - 2) return 'add';
  if (round === worldSize - 2) return 'add-and-divide';
  return 'copy';
}

/** The ranks whose values make chunk `chunk`'s sum, in the order they are added. */
export function summationOrder(chunk: number, worldSize: number): number[] {
  return Array.from({ length: worldSize }, (_, i) => mod(chunk + i, worldSize));
}

/** The ring neighbours of `rank`: it receives from `previous` and sends to `next`. */
export function ringNeighbours(rank: number, worldSize: number): { previous: number; next: number } {
  return { previous: mod(rank - 1, worldSize), next: mod(rank + 1, worldSize) };
}
