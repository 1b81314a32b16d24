import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPermanentLoadFailure } from '../../../server/dataset/loading/load-catalog-volume.js';
import { isVoxelfeedError, VoxelfeedError } from '../../../server/errors.js';
import { fromWorkerError, toWorkerError } from '../../../server/workers/worker-error.js';

/** The error as it arrives from a worker: plain data through a structured clone, then rebuilt. */
function acrossThreads(error: unknown): Error {
  return fromWorkerError(structuredClone(toWorkerError(error)));
}

describe('toWorkerError and fromWorkerError', () => {
  it('keep a VoxelfeedError with its code and message, and the errno code of its cause', () => {
    const cause = Object.assign(new Error('too many open files'), { code: 'EMFILE' });
    const error = acrossThreads(new VoxelfeedError('DATA_LOSS', 'series 1.2.3 cannot be read', { cause }));
    assert.ok(isVoxelfeedError(error));
    assert.equal(error.code, 'DATA_LOSS');
    assert.equal(error.message, 'series 1.2.3 cannot be read');
    assert.equal((error.cause as NodeJS.ErrnoException).code, 'EMFILE');
    // A momentary shortage stays momentary: the series is not marked bad.
    assert.equal(isPermanentLoadFailure(error), false);
    assert.equal(isPermanentLoadFailure(acrossThreads(new VoxelfeedError('DATA_LOSS', 'truncated'))), true);
  });

  it('keep a plain error as an Error with its name, message and stack; anything else as its text', () => {
    const original = new RangeError('a 2x2x2 volume needs 8 voxels');
    const error = acrossThreads(original);
    assert.ok(!isVoxelfeedError(error));
    assert.equal(error.name, 'RangeError');
    assert.equal(error.message, original.message);
    assert.equal(error.stack, original.stack);
    assert.equal(acrossThreads('boom').message, 'boom');
  });

  it('keep at most 8 causes of a cycle', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    let error: unknown = acrossThreads(a);
    let depth = 0;
    while (error instanceof Error && error.cause !== undefined) {
      error = error.cause;
      depth += 1;
    }
    assert.equal(depth, 8);
  });
});
