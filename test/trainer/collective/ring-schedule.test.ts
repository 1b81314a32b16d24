import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  chunkSpan,
  pieceSpans,
  receivedChunk,
  ringNeighbours,
  ringRounds,
  roundAction,
  sentChunk,
  summationOrder,
} from '../../../trainer/collective/ring-schedule.js';

/** One element of a simulated buffer: the ranks whose values it sums, in order, and whether it was divided. */
interface Term {
  readonly ranks: readonly number[];
  readonly divided: boolean;
}

/**
 * Runs the schedule on W simulated ranks with symbolic values, round by round (every rank sends what it
 * holds after the previous round, as the piece-by-piece forwarding does), and returns every rank's buffer.
 */
function simulate(worldSize: number, length: number): Term[][] {
  const buffers = Array.from({ length: worldSize }, (_, rank) =>
    Array.from({ length }, (): Term => ({ ranks: [rank], divided: false })),
  );
  for (let round = 0; round < ringRounds(worldSize); round++) {
    const sent = buffers.map((buffer, rank) => {
      const span = chunkSpan(length, worldSize, sentChunk(rank, round, worldSize));
      return { chunk: sentChunk(rank, round, worldSize), terms: buffer.slice(span.start, span.end) };
    });
    for (let rank = 0; rank < worldSize; rank++) {
      const { previous } = ringNeighbours(rank, worldSize);
      const message = sent[previous]!;
      assert.equal(message.chunk, receivedChunk(rank, round, worldSize), 'receives what its neighbour sends');
      const span = chunkSpan(length, worldSize, message.chunk);
      const action = roundAction(round, worldSize);
      message.terms.forEach((incoming, i) => {
        const own = buffers[rank]![span.start + i]!;
        if (action === 'copy') {
          buffers[rank]![span.start + i] = incoming;
          return;
        }
        assert.deepEqual(own.ranks, [rank], 'a rank adds its own value to a chunk once, untouched before');
        buffers[rank]![span.start + i] = {
          ranks: [...incoming.ranks, rank],
          divided: action === 'add-and-divide',
        };
      });
    }
  }
  return buffers;
}

describe('the ring schedule', () => {
  it('cuts a buffer into W chunks that cover it in order, sizes differing by at most one', () => {
    for (const worldSize of [1, 2, 3, 4, 7]) {
      for (const length of [0, 1, worldSize - 1, worldSize, 10, 1001]) {
        const spans = Array.from({ length: worldSize }, (_, c) => chunkSpan(length, worldSize, c));
        assert.equal(spans[0]!.start, 0);
        assert.equal(spans.at(-1)!.end, length);
        for (const [i, span] of spans.slice(1).entries()) assert.equal(span.start, spans[i]!.end);
        const sizes = spans.map((span) => span.end - span.start);
        assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `${worldSize} ranks, ${length}: ${sizes}`);
      }
    }
  });

  it('cuts a chunk into pieces of at most the given size, none empty', () => {
    assert.deepEqual(pieceSpans({ start: 3, end: 10 }, 3), [
      { start: 3, end: 6 },
      { start: 6, end: 9 },
      { start: 9, end: 10 },
    ]);
    assert.deepEqual(pieceSpans({ start: 5, end: 5 }, 3), []);
  });

  for (const worldSize of [1, 2, 3, 4, 5, 8]) {
    it(`sums every element once per rank, in the fixed order of its chunk, on all ${worldSize} ranks`, () => {
      for (const length of [0, 1, worldSize - 1, worldSize + 1, 3 * worldSize + 2]) {
        const buffers = simulate(worldSize, Math.max(0, length));
        for (const [rank, buffer] of buffers.entries()) {
          for (let chunk = 0; chunk < worldSize; chunk++) {
            const span = chunkSpan(length, worldSize, chunk);
            for (let i = span.start; i < span.end; i++) {
              assert.deepEqual(
                buffer[i],
                { ranks: summationOrder(chunk, worldSize), divided: worldSize > 1 },
                `rank ${rank}, element ${i} of ${length}`,
              );
            }
          }
        }
      }
    });
  }

  it('adds each chunk starting at the rank of the same number, around the ring', () => {
    assert.deepEqual(summationOrder(2, 4), [2, 3, 0, 1]);
    assert.deepEqual(summationOrder(0, 3), [0, 1, 2]);
  });

  it('gives reduce-scatter W - 1 rounds, the last of which divides, then W - 1 rounds that copy', () => {
    assert.deepEqual(
      Array.from({ length: ringRounds(4) }, (_, round) => roundAction(round, 4)),
      ['add', 'add', 'add-and-divide', 'copy', 'copy', 'copy'],
    );
    assert.deepEqual(
      Array.from({ length: ringRounds(2) }, (_, round) => roundAction(round, 2)),
      ['add-and-divide', 'copy'],
    );
    assert.equal(ringRounds(1), 0);
  });
});
