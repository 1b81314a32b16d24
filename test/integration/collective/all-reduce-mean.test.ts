import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closeAll, fulfilled, startGroups } from './group-fixture.js';

/** Deterministic values of rank `rank`, with mixed signs and magnitudes (no Math.random: reproducible). */
function rankValues(rank: number, length: number, step: number): Float32Array {
  const values = new Float32Array(length);
  let state = (rank * 7919 + step * 104729 + 1) >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = ((state / 2 ** 32) * 2 - 1) * 10 ** ((state % 7) - 3);
  }
  return values;
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

describe('allReduceMean over gRPC on 127.0.0.1', { timeout: 180_000 }, () => {
  for (const worldSize of [1, 2, 3, 4]) {
    it(`gives ${worldSize} ranks the float64 mean within float32 rounding, bit-identical on every rank`, async () => {
      // Small messages so that chunks are cut into several pieces.
      const groups = fulfilled(await startGroups(worldSize, () => ({ maxMessageBytes: 4096 })));
      try {
        const lengths = [0, 1, Math.max(0, worldSize - 1), 1000 * worldSize + 1, (3 << 20) / 4 + 3];
        let step = 0;
        for (const length of lengths) {
          const inputs = groups.map((group) => rankValues(group.rank, length, step));
          const buffers = inputs.map((input) => input.slice());
          await Promise.all(groups.map((group, rank) => group.allReduceMean(buffers[rank]!, step)));
          for (const buffer of buffers.slice(1)) {
            assert.ok(sameBits(buffer, buffers[0]!), `length ${length}: every rank holds the same bits`);
          }
          for (let i = 0; i < length; i++) {
            let sum = 0;
            let magnitude = 0;
            for (const input of inputs) {
              sum += input[i]!;
              magnitude += Math.abs(input[i]!);
            }
            const mean = sum / worldSize;
            const bound = (worldSize * magnitude * 2 ** -24) / worldSize + Math.abs(mean) * 2 ** -23 + 1e-45;
            const got = buffers[0]![i]!;
            if (Math.abs(got - mean) > bound) {
              assert.fail(`length ${length}, element ${i}: ${got} is not ${mean} within ${bound}`);
            }
          }
          step++;
        }
      } finally {
        await closeAll(groups);
      }
    });
  }

  it('runs many steps in a row, and counts the seconds spent in them', async () => {
    const groups = fulfilled(await startGroups(3));
    try {
      for (let step = 0; step < 40; step++) {
        const buffers = groups.map((group) => rankValues(group.rank, 257, step));
        await Promise.all(groups.map((group, rank) => group.allReduceMean(buffers[rank]!, step)));
        assert.ok(sameBits(buffers[1]!, buffers[0]!) && sameBits(buffers[2]!, buffers[0]!), `step ${step}`);
      }
      for (const group of groups) assert.ok(group.allReduceSeconds > 0);
    } finally {
      await closeAll(groups);
    }
  });

  it("broadcasts rank 0's bytes to every rank, empty and several pieces long", async () => {
    const groups = fulfilled(await startGroups(3, () => ({ maxMessageBytes: 1000 })));
    try {
      for (const length of [0, 5, 4321]) {
        const bytes = Uint8Array.from({ length }, (_, i) => (i * 31) % 251);
        const got = await Promise.all(
          groups.map((group) => group.broadcast(group.rank === 0 ? bytes : null, `weights-${length}`)),
        );
        for (const received of got) assert.deepEqual(Buffer.from(received), Buffer.from(bytes));
      }
    } finally {
      await closeAll(groups);
    }
  });

  it('refuses a step label that differs between ranks, naming the rank and both steps', async () => {
    const groups = fulfilled(await startGroups(2, () => ({ peerTimeoutMs: 5000 })));
    try {
      const results = await Promise.allSettled(
        groups.map((group) => group.allReduceMean(new Float32Array(8), group.rank === 0 ? 5 : 6)),
      );
      for (const result of results) {
        assert.equal(result.status, 'rejected');
        assert.match(String((result as PromiseRejectedResult).reason), /step [56].*step [56]/);
      }
      await assert.rejects(groups[0]!.failure, /out of step/);
    } finally {
      await closeAll(groups);
    }
  });

  it('refuses buffers of different lengths, naming the ranks and the lengths', async () => {
    const groups = fulfilled(await startGroups(2));
    try {
      const results = await Promise.allSettled(
        groups.map((group) => group.allReduceMean(new Float32Array(group.rank === 0 ? 10 : 12), 0)),
      );
      const messages = results.map((result) => String((result as PromiseRejectedResult).reason));
      assert.ok(
        messages.some((message) =>
          /rank 1 .*12 values.*rank 0 10|rank 0 .*10 values.*rank 1 12/.test(message),
        ),
        messages.join('\n'),
      );
    } finally {
      await closeAll(groups);
    }
  });
});
