import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SampleInfoView } from '../../../../client/feed-batch.js';
import { centrePosition, cropStats, holdsWholeNodule } from '../../../../trainer/inspect/stats/crop-stats.js';

function sample(fields: Partial<SampleInfoView>): SampleInfoView {
  return {
    index: 0,
    seriesUid: 'a',
    mode: 'jitter',
    origin: [0, 0, 0],
    nodule: 0,
    noduleCenter: [5, 5, 5],
    noduleDiameter: 4,
    item: 0,
    foregroundVoxels: 0,
    ...fields,
  };
}

describe('holdsWholeNodule', () => {
  // A nodule at 10 of diameter 4 spans voxels round(8) = 8 to round(12) = 12 on each axis.
  const size = [8, 8, 8] as const;
  const at = (o: number) => sample({ noduleCenter: [10, 10, 10], origin: [o, o, o] });

  it('holds the nodule when its first and last voxel lie inside the crop, up to the crop edges exactly', () => {
    assert.equal(holdsWholeNodule(at(8), size), true, 'first voxel on the crop start');
    assert.equal(holdsWholeNodule(at(5), size), true, 'last voxel 12 on the crop end 5 + 8 - 1');
    assert.equal(holdsWholeNodule(at(9), size), false, 'first voxel cut');
    assert.equal(holdsWholeNodule(at(4), size), false, 'last voxel cut');
  });

  it('rounds the span halves up, as the jitter mode does', () => {
    // centre 10.5, diameter 3: round(9) = 9 to round(12) = 12.
    const s = sample({ noduleCenter: [10.5, 10.5, 10.5], noduleDiameter: 3, origin: [9, 9, 9] });
    assert.equal(holdsWholeNodule(s, [4, 4, 4]), true);
    assert.equal(holdsWholeNodule(s, [3, 4, 4]), false);
  });

  it('needs every axis, and a drawn nodule', () => {
    assert.equal(
      holdsWholeNodule(sample({ noduleCenter: [10, 10, 10], origin: [8, 8, 9] }), [8, 8, 8]),
      false,
    );
    assert.equal(holdsWholeNodule(sample({ nodule: -1, noduleCenter: [] }), [8, 8, 8]), false);
  });
});

describe('centrePosition', () => {
  it('is (c - origin + 0.5) / size: 0 and 1 at the crop faces, 0.5 + 0.5/s for the centre mode', () => {
    assert.equal(centrePosition(sample({ noduleCenter: [8, 0, 0], origin: [0, 0, 0] }), 0, 16), 8.5 / 16);
    assert.equal(centrePosition(sample({ noduleCenter: [-0.5, 0, 0], origin: [0, 0, 0] }), 0, 16), 0);
    assert.equal(centrePosition(sample({ noduleCenter: [0, 0, 15.5], origin: [0, 0, 0] }), 2, 16), 1);
  });
});

describe('cropStats', () => {
  it('counts per mode and for all crops; negative items have no centre and no whole nodule', () => {
    const samples = [
      sample({ mode: 'jitter', origin: [2, 2, 2], foregroundVoxels: 30 }),
      sample({ mode: 'jitter', origin: [4, 2, 2], foregroundVoxels: 10 }),
      sample({ mode: 'negative', nodule: -1, noduleCenter: [], origin: [20, 0, 0], foregroundVoxels: 0 }),
      sample({ mode: 'negative', nodule: 1, origin: [7, 0, 0], foregroundVoxels: 5 }),
    ];
    const stats = cropStats(samples, [8, 8, 8]);
    assert.equal(stats.jitter.crops, 2);
    assert.equal(stats.jitter.wholeNodule, 1, 'origin 4 cuts the span 3..7 on axis 0');
    assert.equal(stats.jitter.withForeground, 2);
    assert.deepEqual(stats.jitter.foregroundVoxels, { mean: 20, median: 20, p90: 28 });
    assert.equal(stats.center.crops, 0);
    assert.equal(stats.center.centre[0].mean, null);
    assert.equal(stats.negative.crops, 2);
    assert.equal(stats.negative.drawnForNodule, 1);
    assert.equal(stats.negative.withForeground, 1);
    assert.equal(stats.negative.centre[0].below, 1, 'centre 5 before origin 7');
    assert.equal(stats.all.crops, 4);
    assert.equal(stats.all.drawnForNodule, 3);
    // Axis 1: the jitter crops at origin 2 put the centre 5 at 3.5/8, the negative one at origin 0 at 5.5/8.
    assert.deepEqual(stats.all.centre[1].histogram, [0, 0, 0, 0, 2, 0, 1, 0, 0, 0]);
  });
});
