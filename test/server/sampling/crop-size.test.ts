import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VoxelfeedError } from '../../../server/errors.js';
import { validateCropSize } from '../../../server/sampling/crop-size.js';

const LIMIT = 2_097_152; // 128^3

function rejects(size: number[], message: string): void {
  assert.throws(
    () => validateCropSize(size, LIMIT),
    (error: unknown) =>
      error instanceof VoxelfeedError && error.code === 'INVALID_ARGUMENT' && error.message.includes(message),
    message,
  );
}

describe('validateCropSize', () => {
  it('returns three positive integers up to the voxel limit as a shape', () => {
    assert.deepEqual(validateCropSize([16, 96, 96], LIMIT), [16, 96, 96]);
    assert.deepEqual(validateCropSize([1, 1, 1], LIMIT), [1, 1, 1]);
    assert.deepEqual(validateCropSize([128, 128, 128], LIMIT), [128, 128, 128]);
  });

  it('refuses a size without exactly 3 values, naming the count', () => {
    rejects([96, 96], 'crop_size must have 3 values (s0, s1, s2), got 2');
    rejects([], 'got 0');
    rejects([1, 2, 3, 4], 'got 4');
  });

  it('refuses zero, negative and fractional values, naming each', () => {
    rejects([0, 96, 96], 'crop_size[0] is 0; each value must be a positive integer');
    rejects([16, -1, 96], 'crop_size[1] is -1');
    rejects([16, 96, 2.5], 'crop_size[2] is 2.5');
    assert.throws(
      () => validateCropSize([0, -2, 96], LIMIT),
      (error: unknown) =>
        error instanceof VoxelfeedError &&
        error.message.includes('[0] is 0') &&
        error.message.includes('[1] is -2'),
    );
  });

  it('refuses a crop over the voxel limit, stating the size, the voxels, the limit and the fix', () => {
    rejects(
      [160, 160, 160],
      "crop 160x160x160 = 4096000 voxels exceeds the server's limit of 2097152 voxels per sample (serve --max-crop-voxels); lower crop_size",
    );
    rejects([128, 128, 129], '= 2113536 voxels');
    rejects([4_294_967_295, 4_294_967_295, 4_294_967_295], '= 79228162458924105385300197375 voxels');
  });
});
