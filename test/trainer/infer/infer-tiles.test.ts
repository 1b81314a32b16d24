import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type InferTileBatch,
  inferTiles,
  type SeriesOutput,
  type SeriesStart,
  type Shape3,
} from '../../../trainer/infer/infer-tiles.js';
import { identityPredictor } from '../../../trainer/infer/tile-predictor.js';

/** Messages of `batch` tiles of 2x2x2 over a series whose grid is `origins` (values: tile number + 1). */
function seriesBatches(
  uid: string,
  index: number,
  count: number,
  origins: readonly Shape3[],
  batch: number,
): InferTileBatch[] {
  const out: InferTileBatch[] = [];
  for (let first = 0; first < origins.length; first += batch) {
    const tiles = origins.slice(first, first + batch);
    const image = new Uint8Array(tiles.length * 8);
    for (let b = 0; b < tiles.length; b++) image.fill(first + b + 1, b * 8, (b + 1) * 8);
    out.push({
      seriesUid: uid,
      seriesIndex: index,
      seriesCount: count,
      volumeShape: [4, 2, 2],
      firstTile: first,
      tilesInSeries: origins.length,
      shape: [tiles.length, 2, 2, 2],
      dtype: 'uint8',
      image,
      origins: tiles,
      spacing: [2.5, 0.7, 0.7],
    });
  }
  return out;
}

async function* stream(batches: readonly InferTileBatch[]): AsyncIterable<InferTileBatch> {
  yield* batches;
}

/** Records what each series' output receives. */
function recorder() {
  const events: string[] = [];
  const starts: SeriesStart[] = [];
  const open = async (start: SeriesStart): Promise<SeriesOutput> => {
    starts.push(start);
    events.push(`open ${start.uid}`);
    return {
      add: async (origin, prediction) => {
        events.push(
          `add ${start.uid} ${origin.join(',')} ${Math.round(prediction[0]! * 255)}x${prediction.length}`,
        );
      },
      finish: async () => {
        events.push(`finish ${start.uid}`);
        return { path: `${start.uid}.nrrd`, peakBytes: 100 * starts.length, writerPeakBytes: 7 };
      },
      abort: async () => {
        events.push(`abort ${start.uid}`);
      },
    };
  };
  const listener = {
    seriesStarted: (s: SeriesStart) => events.push(`started ${s.uid} ${s.index + 1}/${s.count}`),
    tilesDone: (n: number) => events.push(`tiles ${n}`),
    seriesFinished: (r: { uid: string; tiles: number }) => events.push(`finished ${r.uid} ${r.tiles}`),
  };
  return { events, starts, open, listener };
}

const grid: Shape3[] = [
  [0, 0, 0],
  [1, 0, 0],
  [2, 0, 0],
];
const clock = () => 0;

describe('inferTiles', () => {
  it('merges every tile of every series in stream order and finishes each series at its last tile', async () => {
    const r = recorder();
    const batches = [...seriesBatches('s1', 0, 2, grid, 2), ...seriesBatches('s2', 1, 2, grid, 2)];
    const results = await inferTiles(stream(batches), identityPredictor(), r.open, r.listener, clock);
    assert.deepEqual(r.events, [
      'open s1',
      'started s1 1/2',
      'add s1 0,0,0 1x8',
      'add s1 1,0,0 2x8',
      'tiles 2',
      'add s1 2,0,0 3x8',
      'tiles 1',
      'finish s1',
      'finished s1 3',
      'open s2',
      'started s2 2/2',
      'add s2 0,0,0 1x8',
      'add s2 1,0,0 2x8',
      'tiles 2',
      'add s2 2,0,0 3x8',
      'tiles 1',
      'finish s2',
      'finished s2 3',
    ]);
    assert.deepEqual(r.starts[0], {
      uid: 's1',
      index: 0,
      count: 2,
      volumeShape: [4, 2, 2],
      tileShape: [2, 2, 2],
      tilesInSeries: 3,
      spacing: [2.5, 0.7, 0.7],
    });
    assert.deepEqual(
      results.map((s) => [s.uid, s.tiles, s.path, s.peakBytes]),
      [
        ['s1', 3, 's1.nrrd', 100],
        ['s2', 3, 's2.nrrd', 200],
      ],
    );
  });

  it('stops with DATA_LOSS and removes the half-written output when a tile is skipped', async () => {
    const r = recorder();
    const batches = seriesBatches('s1', 0, 1, grid, 1);
    await assert.rejects(
      inferTiles(stream([batches[0]!, batches[2]!]), identityPredictor(), r.open, r.listener, clock),
      {
        code: 'DATA_LOSS',
        message: /series s1: a message of 1 tiles \(1 origins\) starts at tile 2, expected tile 1/,
      },
    );
    assert.equal(r.events.at(-1), 'abort s1');
  });

  it('stops with DATA_LOSS when the stream ends inside a series or moves on before its end', async () => {
    const r = recorder();
    const batches = seriesBatches('s1', 0, 2, grid, 2);
    await assert.rejects(
      inferTiles(stream(batches.slice(0, 1)), identityPredictor(), r.open, r.listener, clock),
      {
        code: 'DATA_LOSS',
        message: /the stream ended after 2 of the 3 tiles of series s1/,
      },
    );
    assert.equal(r.events.at(-1), 'abort s1');
    const next = seriesBatches('s2', 1, 2, grid, 2);
    await assert.rejects(
      inferTiles(stream([batches[0]!, next[0]!]), identityPredictor(), r.open, r.listener, clock),
      /series s1 ended after 2 of its 3 tiles, then series s2 began/,
    );
  });

  it('stops with DATA_LOSS when a series starts past tile 0 or comes twice', async () => {
    const r = recorder();
    const batches = seriesBatches('s1', 0, 1, grid, 1);
    await assert.rejects(
      inferTiles(stream(batches.slice(1)), identityPredictor(), r.open, r.listener, clock),
      /series s1 began at tile 1/,
    );
    await assert.rejects(
      inferTiles(stream([...batches, batches[0]!]), identityPredictor(), r.open, r.listener, clock),
      /series s1 came again/,
    );
  });

  it('returns no series for an empty stream', async () => {
    const r = recorder();
    assert.deepEqual(await inferTiles(stream([]), identityPredictor(), r.open, r.listener, clock), []);
  });
});
