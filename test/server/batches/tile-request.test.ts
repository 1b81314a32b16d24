import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DType, SplitPart, type StreamTilesRequest } from '../../../gen/voxelfeed/v1/voxelfeed.js';
import { resolveTileRequest } from '../../../server/batches/tile-request.js';
import { isVoxelfeedError } from '../../../server/errors.js';
import { DEFAULT_SERVICE_LIMITS } from '../../../server/service/service-limits.js';
import { streamTilesRequest } from '../../support/stream-tiles-request.js';
import { stubCatalog, stubRegistry } from '../../support/stub-catalog.js';

const registry = stubRegistry({
  catalog: stubCatalog([
    [20, 40, 40],
    [9, 30, 50],
    [33, 64, 64],
  ]),
});

function refusal(request: Partial<StreamTilesRequest>): { code: string; message: string } {
  try {
    resolveTileRequest(streamTilesRequest(request), registry, DEFAULT_SERVICE_LIMITS);
  } catch (error) {
    assert.ok(isVoxelfeedError(error), String(error));
    return { code: error.code, message: error.message };
  }
  assert.fail(`accepted ${JSON.stringify(request, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`);
}

describe('resolveTileRequest', () => {
  it('fills the defaults: every series in catalog order, overlap 0.5, one tile per message, uint8', () => {
    const resolved = resolveTileRequest(streamTilesRequest({}), registry, DEFAULT_SERVICE_LIMITS);
    assert.deepEqual(resolved.series, [0, 1, 2]);
    assert.deepEqual(resolved.overlap, [0.5, 0.5, 0.5]);
    assert.equal(resolved.batchSize, 1);
    assert.equal(resolved.dtype, 'uint8');
    assert.equal(resolved.startTile, 0);
  });

  it('takes one overlap for every axis or three, and the series named in their order', () => {
    const one = resolveTileRequest(streamTilesRequest({ overlap: [0.25] }), registry, DEFAULT_SERVICE_LIMITS);
    assert.deepEqual(one.overlap, [0.25, 0.25, 0.25]);
    const three = resolveTileRequest(
      streamTilesRequest({ overlap: [0, 0.5, 0.75], seriesUids: ['1.2.2', '1.2.0'] }),
      registry,
      DEFAULT_SERVICE_LIMITS,
    );
    assert.deepEqual(three.overlap, [0, 0.5, 0.75]);
    assert.deepEqual(three.series, [2, 0]);
  });

  it('resumes at a series and tile inside the list', () => {
    // Series 1 is 9x30x50: tiles of 8x16x16 at half overlap make a 2x3x6 grid, 36 tiles.
    const resolved = resolveTileRequest(
      streamTilesRequest({ startSeries: 1, startTile: 35n }),
      registry,
      DEFAULT_SERVICE_LIMITS,
    );
    assert.equal(resolved.startSeries, 1);
    assert.equal(resolved.startTile, 35);
  });

  const refused: [what: string, request: Partial<StreamTilesRequest>, code: string, pattern: RegExp][] = [
    ['a tile of 2 values', { tileSize: [8, 16] }, 'INVALID_ARGUMENT', /tile_size has 2 values; give 3/],
    ['a tile size of 0', { tileSize: [8, 0, 16] }, 'INVALID_ARGUMENT', /tile_size is 8, 0, 16; each value/],
    [
      'a tile over the voxel limit',
      { tileSize: [256, 256, 256] },
      'INVALID_ARGUMENT',
      /tile 256x256x256 = 16777216 voxels exceeds the server's limit of 2097152 .*--max-crop-voxels.*lower tile_size/,
    ],
    ['an overlap of 1', { overlap: [1] }, 'INVALID_ARGUMENT', /overlap is 1; .*0 <= overlap < 1/],
    ['a negative overlap', { overlap: [0.5, -0.1, 0.5] }, 'INVALID_ARGUMENT', /overlap is 0.5, -0.1, 0.5/],
    ['2 overlaps', { overlap: [0.5, 0.5] }, 'INVALID_ARGUMENT', /overlap has 2 values; give none/],
    [
      'too many tiles per message',
      { batchSize: 5000 },
      'INVALID_ARGUMENT',
      /batch_size is 5000; .*at most 4096/,
    ],
    [
      'a message over the byte limit',
      { tileSize: [64, 128, 128], batchSize: 100, dtype: DType.DTYPE_FLOAT32 },
      'INVALID_ARGUMENT',
      /a message of 100 tiles 64x128x128 float32 takes 400.0 MiB, over .*--max-batch-bytes.*lower batch_size/,
    ],
    ['an unknown dtype', { dtype: 7 as DType }, 'INVALID_ARGUMENT', /dtype is 7; use DTYPE_UINT8/],
    [
      'a fractional pad value',
      { padValue: 1.5 },
      'INVALID_ARGUMENT',
      /pad_value is 1.5; expected an integer 0..255/,
    ],
    [
      'an unknown series',
      { seriesUids: ['1.2.0', 'nope'] },
      'INVALID_ARGUMENT',
      /series_uids names 1 series this data set does not serve: "nope"; GetDatasetInfo lists/,
    ],
    [
      'a repeated series',
      { seriesUids: ['1.2.1', '1.2.0', '1.2.1'] },
      'INVALID_ARGUMENT',
      /series_uids names "1.2.1" more than once; name each series once/,
    ],
    [
      'series with a split',
      { seriesUids: ['1.2.0'], split: { holdoutFraction: 0.2, part: SplitPart.SPLIT_PART_HOLDOUT } },
      'INVALID_ARGUMENT',
      /series_uids names 1 series and split is set too; send one of them/,
    ],
    [
      'a train split without a fraction',
      { split: { holdoutFraction: 0, part: SplitPart.SPLIT_PART_TRAIN } },
      'INVALID_ARGUMENT',
      /split.holdout_fraction is 0/,
    ],
    [
      'a start series past the list',
      { startSeries: 3 },
      'OUT_OF_RANGE',
      /start_series is 3 but the request lists 3 series; resume at start_series 0..2/,
    ],
    [
      'a start tile past the series',
      { startSeries: 1, startTile: 36n },
      'OUT_OF_RANGE',
      /start_tile is 36 but series 1 \(1.2.1\) has 36 tiles of 8x16x16; resume at start_tile 0..35/,
    ],
    [
      'an unknown data set',
      { dataset: 'other' },
      'NOT_FOUND',
      /data set "other" is not served here; served: d/,
    ],
  ];
  for (const [what, request, code, pattern] of refused) {
    it(`refuses ${what} with ${code}, naming the field and the fix`, () => {
      const { code: got, message } = refusal(request);
      assert.equal(got, code, message);
      assert.match(message, pattern);
    });
  }

  it('reports every problem of a request at once', () => {
    const { message } = refusal({ tileSize: [0, 1, 1], overlap: [2], seriesUids: ['x', 'x'], padValue: 300 });
    for (const field of ['tile_size', 'overlap', 'series_uids', 'pad_value'])
      assert.match(message, new RegExp(field));
  });
});
