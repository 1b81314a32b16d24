import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { voxelSpacing } from '../../../../server/dataset/nrrd/voxel-spacing.js';

describe('voxelSpacing', () => {
  it('reads the spacings field for the spatial axes', () => {
    assert.deepEqual(
      voxelSpacing({ spacings: [2.5, 0.7, 0.7], spaceDirections: null }, [0, 1, 2]),
      [2.5, 0.7, 0.7],
    );
    // A 4-D file whose axis 0 is the channel: its NaN spacing is not read.
    assert.deepEqual(
      voxelSpacing({ spacings: [Number.NaN, 2.5, 0.7, 0.6], spaceDirections: null }, [1, 2, 3]),
      [2.5, 0.7, 0.6],
    );
  });

  it('takes the length of each space direction when there are no spacings', () => {
    const spacing = voxelSpacing(
      {
        spacings: null,
        spaceDirections: [null, [0, 0, 2.5], [0.6, 0.8, 0], [-0.7, 0, 0]],
      },
      [1, 2, 3],
    );
    assert.deepEqual(spacing, [2.5, 1, 0.7]);
  });

  it('is null when an axis has neither, or a value is not a positive number', () => {
    assert.equal(voxelSpacing({ spacings: null, spaceDirections: null }, [0, 1, 2]), null);
    assert.equal(voxelSpacing({ spacings: [1, Number.NaN, 1], spaceDirections: null }, [0, 1, 2]), null);
    assert.equal(voxelSpacing({ spacings: [1, 0, 1], spaceDirections: null }, [0, 1, 2]), null);
    assert.equal(
      voxelSpacing({ spacings: null, spaceDirections: [[1, 0, 0], null, [0, 0, 1]] }, [0, 1, 2]),
      null,
    );
  });
});
