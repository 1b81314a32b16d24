import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPermanentLoadFailure } from '../../../../server/dataset/loading/load-catalog-volume.js';
import { VoxelfeedError, type VoxelfeedErrorCode } from '../../../../server/errors.js';

/** A Node system error as fs calls throw it: an Error with an errno `code`. */
function systemError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: open 'image.nrrd'`), { code });
}

function dataLoss(cause?: unknown): VoxelfeedError {
  return new VoxelfeedError('DATA_LOSS', 'image.nrrd: cannot read the NRRD header', { cause });
}

describe('isPermanentLoadFailure', () => {
  it('calls DATA_LOSS permanent: a corrupt or changed file stays so while the server runs', () => {
    assert.equal(isPermanentLoadFailure(dataLoss()), true);
    assert.equal(isPermanentLoadFailure(dataLoss(new Error('unexpected end of gzip stream'))), true);
  });

  it('calls DATA_LOSS permanent when its cause is a file that is missing or unreadable for good', () => {
    for (const code of ['ENOENT', 'EACCES', 'EISDIR', 'EIO']) {
      assert.equal(isPermanentLoadFailure(dataLoss(systemError(code))), true, code);
    }
  });

  it('calls DATA_LOSS passing when its cause is a momentary shortage such as too many open files', () => {
    for (const code of ['EMFILE', 'ENFILE', 'EAGAIN', 'ENOMEM', 'EBUSY', 'EINTR', 'ETIMEDOUT']) {
      assert.equal(isPermanentLoadFailure(dataLoss(systemError(code))), false, code);
    }
  });

  it('finds a shortage further down the chain of causes', () => {
    const wrapped = new Error('read failed', {
      cause: new Error('stream error', { cause: systemError('EMFILE') }),
    });
    assert.equal(isPermanentLoadFailure(dataLoss(wrapped)), false);
  });

  it('calls every other error passing: other codes, plain errors and non-errors', () => {
    const codes: VoxelfeedErrorCode[] = [
      'INTERNAL',
      'UNAVAILABLE',
      'RESOURCE_EXHAUSTED',
      'NOT_FOUND',
      'INVALID_ARGUMENT',
    ];
    for (const code of codes) {
      assert.equal(isPermanentLoadFailure(new VoxelfeedError(code, 'x')), false, code);
    }
    assert.equal(isPermanentLoadFailure(systemError('ENOENT')), false);
    assert.equal(isPermanentLoadFailure(new Error('DATA_LOSS')), false);
    assert.equal(isPermanentLoadFailure({ code: 'DATA_LOSS' }), false);
    assert.equal(isPermanentLoadFailure(undefined), false);
  });
});
