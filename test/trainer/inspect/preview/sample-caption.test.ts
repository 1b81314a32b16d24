import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SampleInfoView } from '../../../../client/index.js';
import { sampleCaption, shortUid } from '../../../../trainer/inspect/preview/sample-caption.js';

const LUNA = '1.3.6.1.4.1.14519.5.2.1.6279.6001.100225287222365663678666836860';

describe('shortUid', () => {
  it('keeps the start and the end of a long uid, which tell series apart', () => {
    assert.equal(shortUid(LUNA), '1.3.6.1....8666836860');
    assert.equal(shortUid('short-uid'), 'short-uid');
  });
});

describe('sampleCaption', () => {
  const info: SampleInfoView = {
    index: 12,
    seriesUid: LUNA,
    mode: 'jitter',
    origin: [3, 10, -4],
    nodule: 1,
    noduleCenter: [10, 20, 30],
    noduleDiameter: 6.25,
    item: 4,
    foregroundVoxels: 0,
  };

  it('names position, series, mode, origin, nodule, diameter and foreground voxels', () => {
    assert.equal(
      sampleCaption(info, 143),
      '#12 1.3.6.1....8666836860 jitter origin 3,10,-4 nodule 1 d 6.3 fg 143',
    );
  });

  it('says so for a sample without a nodule', () => {
    const negative = { ...info, mode: 'negative' as const, nodule: -1, noduleCenter: [], noduleDiameter: 0 };
    assert.match(sampleCaption(negative, 0), / negative origin 3,10,-4 no nodule fg 0$/);
  });
});
