import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import type fc from 'fast-check';
import { isVoxelfeedError, type VoxelfeedError } from '../../server/errors.js';

/**
 * The seed of every property in test/fuzz: fixed, so CI runs the same cases every time and a failure replays.
 * VOXELFEED_FUZZ_SEED explores other cases (fast-check prints the seed and the counterexample's path on a
 * failure; pass both back through `fuzzParameters`' overrides to replay one).
 */
export const FUZZ_SEED = Number(process.env.VOXELFEED_FUZZ_SEED ?? 20_240_611);

/** fc.assert parameters: `numRuns` cases from FUZZ_SEED. VOXELFEED_FUZZ_RUNS scales every file (e.g. 10 for a soak). */
export function fuzzParameters<T>(numRuns: number): fc.Parameters<T> {
  const scale = Number(process.env.VOXELFEED_FUZZ_RUNS ?? 1);
  return {
    numRuns: Math.max(1, Math.round(numRuns * (scale > 0 ? scale : 1))),
    seed: FUZZ_SEED,
    // The failing assertion's own message in the report, so a CI log says what went wrong, not only where.
    includeErrorInReport: true,
    // A regression that makes cases slow (super-linear parsing) fails the property within a minute instead of
    // shrinking slow cases for much longer; the check runs between cases.
    interruptAfterTimeLimit: 60_000,
    markInterruptAsFailure: true,
  };
}

/**
 * Runs one case with a time bound. An async hang (a read that never returns) is cut off by the timer; a
 * synchronous one cannot be interrupted in this thread, so the elapsed time is checked when it returns:
 * super-linear parsing shows up as a slow case long before it becomes a hang.
 */
export async function bounded<T>(what: string, limitMs: number, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${limitMs} ms`)), limitMs);
  });
  try {
    return await Promise.race([run(), timeout]);
  } finally {
    clearTimeout(timer);
    const elapsed = performance.now() - started;
    assert.ok(elapsed <= limitMs, `${what} took ${elapsed.toFixed(0)} ms, over the ${limitMs} ms bound`);
  }
}

/**
 * Asserts that `error` is a VoxelfeedError (never a RangeError, TypeError or bare system error) with `code`,
 * whose message holds every string of `all` and at least one of `anyOf` (when given). Returns it.
 */
export function expectVoxelfeedError(
  error: unknown,
  expected: { code?: VoxelfeedError['code']; all?: readonly string[]; anyOf?: readonly string[] },
): VoxelfeedError {
  if (!isVoxelfeedError(error)) {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    assert.fail(`expected a VoxelfeedError, got ${text}`);
  }
  if (expected.code !== undefined) assert.equal(error.code, expected.code, error.message);
  for (const fragment of expected.all ?? []) {
    assert.ok(
      error.message.includes(fragment),
      `"${error.message}" does not name ${JSON.stringify(fragment)}`,
    );
  }
  const anyOf = expected.anyOf ?? [];
  if (anyOf.length > 0) {
    assert.ok(
      anyOf.some((fragment) => error.message.includes(fragment)),
      `"${error.message}" names none of ${JSON.stringify(anyOf)}`,
    );
  }
  return error;
}

/** Records the largest Buffer the code under test asks for while `run` is in flight. */
export interface AllocationWatch {
  /** Bytes of the largest Buffer.allocUnsafe / allocUnsafeSlow / alloc request since the last reset. */
  readonly largest: number;
  reset(): void;
  restore(): void;
}

/**
 * Wraps Buffer's allocators (the NRRD reader reads voxels into Buffer.allocUnsafeSlow; zlib and Buffer.concat
 * use Buffer.allocUnsafe), so a test can check that nothing larger than the file could hold was allocated.
 * Node's own modules look these statics up at call time, so the wrapper sees their requests too.
 */
export function watchBufferAllocations(): AllocationWatch {
  const originals = {
    alloc: Buffer.alloc,
    allocUnsafe: Buffer.allocUnsafe,
    allocUnsafeSlow: Buffer.allocUnsafeSlow,
  };
  let largest = 0;
  const note = (size: unknown): void => {
    if (typeof size === 'number' && size > largest) largest = size;
  };
  Buffer.alloc = (...args: Parameters<typeof Buffer.alloc>) => {
    note(args[0]);
    return originals.alloc(...args);
  };
  Buffer.allocUnsafe = (...args: Parameters<typeof Buffer.allocUnsafe>) => {
    note(args[0]);
    return originals.allocUnsafe(...args);
  };
  Buffer.allocUnsafeSlow = (...args: Parameters<typeof Buffer.allocUnsafeSlow>) => {
    note(args[0]);
    return originals.allocUnsafeSlow(...args);
  };
  return {
    get largest() {
      return largest;
    },
    reset() {
      largest = 0;
    },
    restore() {
      Buffer.alloc = originals.alloc;
      Buffer.allocUnsafe = originals.allocUnsafe;
      Buffer.allocUnsafeSlow = originals.allocUnsafeSlow;
    },
  };
}

/** The texts a message may use for a number written as `text` in a file: as written, and as JS prints it. */
export function numberSpellings(text: string): string[] {
  const trimmed = text.trim();
  const value = Number(trimmed);
  return trimmed === '' || Number.isNaN(value) ? [trimmed] : [trimmed, String(value)];
}
