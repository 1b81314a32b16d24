import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { noduleInCrop } from '../../../../trainer/inspect/preview/nodule-in-crop.js';

describe('noduleInCrop', () => {
  it('is the centre minus the origin, rounded, for a centre inside the crop', () => {
    const info = { nodule: 2, noduleCenter: [10.4, 20.6, 5], origin: [3, 10, -4] as const };
    assert.deepEqual(noduleInCrop(info, [16, 32, 32]), { z: 7, row: 11, col: 9 });
  });

  it('is null without a nodule, or with its centre outside the crop on any axis', () => {
    assert.equal(noduleInCrop({ nodule: -1, noduleCenter: [], origin: [0, 0, 0] }, [8, 8, 8]), null);
    assert.equal(noduleInCrop({ nodule: 0, noduleCenter: [4, 4, 8], origin: [0, 0, 0] }, [8, 8, 8]), null);
    assert.equal(noduleInCrop({ nodule: 0, noduleCenter: [4, -0.6, 4], origin: [0, 0, 0] }, [8, 8, 8]), null);
  });
});
