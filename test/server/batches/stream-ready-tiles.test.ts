import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DType, type StreamTilesRequest, TileBatch } from '../../../gen/voxelfeed/v1/voxelfeed.js';
import { BatchMemory } from '../../../server/batches/batch-memory.js';
import type { DatasetRegistry } from '../../../server/batches/served-dataset.js';
import { type ReadyTilesDeps, streamReadyTiles } from '../../../server/batches/stream-ready-tiles.js';
import { resolveTileRequest, type TileRequest } from '../../../server/batches/tile-request.js';
import { VolumeCache } from '../../../server/cache/volume-cache.js';
import { VoxelfeedError } from '../../../server/errors.js';
import { silentLogger } from '../../../server/log/logger.js';
import { axisTileOrigins } from '../../../server/sampling/tile-grid.js';
import type { Shape3, Volume } from '../../../server/sampling/types.js';
import { DEFAULT_SERVICE_LIMITS } from '../../../server/service/service-limits.js';
import { allBuffersBack } from '../../support/all-buffers-back.js';
import { cancelMidStream } from '../../support/cancel-mid-stream.js';
import { streamTilesRequest } from '../../support/stream-tiles-request.js';
import { stubCatalog, stubRegistry } from '../../support/stub-catalog.js';

const SHAPES: Shape3[] = [
  [21, 37, 30],
  [6, 20, 45],
  [16, 16, 16],
];

/** A volume whose every voxel differs from its neighbours, and a mask of the voxels with x0 + x1 + x2 odd. */
function patternVolume(shape: Shape3, seed: number): Volume {
  const [n0, n1, n2] = shape;
  const image = new Uint8Array(n0 * n1 * n2);
  const mask = new Uint8Array(n0 * n1 * n2);
  for (let x0 = 0, i = 0; x0 < n0; x0++) {
    for (let x1 = 0; x1 < n1; x1++) {
      for (let x2 = 0; x2 < n2; x2++, i++) {
        image[i] = (x0 * 53 + x1 * 11 + x2 * 3 + seed * 29) & 255;
        mask[i] = (x0 + x1 + x2) & 1;
      }
    }
  }
  return { shape, image, mask };
}

/** The served data set, counting the cache's loads per series; `bad` is a series that cannot be read. */
function served(bad?: number) {
  const loads = SHAPES.map(() => 0);
  const gets = SHAPES.map(() => 0);
  const catalog = stubCatalog(SHAPES, [2.5, 0.7, 0.7]);
  const cache = new VolumeCache<number>({
    maxBytes: 1 << 30,
    load: async (index) => {
      loads[index]! += 1;
      if (index === bad) throw new VoxelfeedError('DATA_LOSS', 'the file is damaged');
      return patternVolume(SHAPES[index]!, index);
    },
  });
  const get = cache.get.bind(cache);
  cache.get = (index: number) => {
    gets[index]! += 1;
    return get(index);
  };
  return { registry: stubRegistry({ catalog, cache }), loads, gets };
}

function request(registry: DatasetRegistry, wire: Partial<StreamTilesRequest> = {}): TileRequest {
  return resolveTileRequest(
    streamTilesRequest({
      overlap: [0.5, 0.25, 0],
      batchSize: 5,
      dtype: DType.DTYPE_UINT8,
      includeMask: true,
      padValue: 7,
      ...wire,
    }),
    registry,
    DEFAULT_SERVICE_LIMITS,
  );
}

function deps(memory: BatchMemory): ReadyTilesDeps {
  return { prefetchBatches: 2, batchMemory: memory, log: silentLogger, streamId: 'test' };
}

async function readAll(tiles: TileRequest, memory: BatchMemory, signal = new AbortController().signal) {
  const messages: TileBatch[] = [];
  for await (const ready of streamReadyTiles(tiles, signal, deps(memory))) {
    messages.push(TileBatch.decode(Buffer.from(ready.batch.bytes)));
    ready.release();
  }
  return messages;
}

/** The tile at `origin`, voxel by voxel: image (pad past the edge) and mask (0 past the edge). */
function referenceTile(volume: Volume, origin: readonly number[], size: Shape3, pad: number) {
  const [n0, n1, n2] = volume.shape;
  const image = new Uint8Array(size[0] * size[1] * size[2]);
  const mask = new Uint8Array(image.length);
  let i = 0;
  for (let a = 0; a < size[0]; a++) {
    for (let b = 0; b < size[1]; b++) {
      for (let c = 0; c < size[2]; c++, i++) {
        const [x0, x1, x2] = [origin[0]! + a, origin[1]! + b, origin[2]! + c];
        const inside = x0 < n0 && x1 < n1 && x2 < n2;
        const at = (x0 * n1 + x1) * n2 + x2;
        image[i] = inside ? volume.image[at]! : pad;
        mask[i] = inside ? volume.mask[at]! : 0;
      }
    }
  }
  return { image, mask };
}

describe('streamReadyTiles', { timeout: 60_000 }, () => {
  it('sends every tile of every series in grid order, each equal to the volume cut at its origin', async () => {
    const { registry, gets, loads } = served();
    const tiles = request(registry);
    const messages = await readAll(tiles, new BatchMemory({ budgetBytes: 1 << 26, idleReleaseMs: 0 }));
    let checked = 0;
    for (const [position, shape] of SHAPES.entries()) {
      const mine = messages.filter((message) => message.seriesIndex === position);
      const axes = [0, 1, 2].map((k) => axisTileOrigins(shape[k]!, tiles.tileSize[k]!, tiles.overlap[k]!));
      const expected = axes[0]!.flatMap((o0) => axes[1]!.flatMap((o1) => axes[2]!.map((o2) => [o0, o1, o2])));
      assert.deepEqual(
        mine.flatMap((message) => message.origins),
        expected.flat(),
        `series ${position}: origins in order`,
      );
      const volume = patternVolume(shape, position);
      let next = 0;
      for (const message of mine) {
        assert.equal(message.seriesUid, `1.2.${position}`);
        assert.equal(message.seriesCount, 3);
        assert.deepEqual(message.volumeShape, [...shape]);
        assert.deepEqual(
          message.grid,
          axes.map((origins) => origins.length),
        );
        assert.equal(message.tilesInSeries, BigInt(expected.length));
        assert.equal(message.firstTile, BigInt(next));
        const count = Math.min(5, expected.length - next);
        assert.deepEqual(message.shape, [count, 8, 16, 16]);
        assert.deepEqual(message.spacing, [2.5, 0.7, 0.7], 'spacing as doubles from the header');
        const voxels = 8 * 16 * 16;
        for (let b = 0; b < count; b++) {
          const want = referenceTile(volume, message.origins.slice(3 * b, 3 * b + 3), [8, 16, 16], 7);
          assert.ok(Buffer.from(message.image.subarray(b * voxels, (b + 1) * voxels)).equals(want.image));
          assert.ok(Buffer.from(message.mask.subarray(b * voxels, (b + 1) * voxels)).equals(want.mask));
          checked += 1;
        }
        next += count;
      }
      assert.equal(next, expected.length);
    }
    assert.ok(checked > 30, `${checked} tiles`);
    assert.deepEqual(gets, [1, 1, 1], 'each series asked of the cache once');
    assert.deepEqual(loads, [1, 1, 1]);
  });

  it('sends float32 tiles as voxel / 255 of the uint8 ones', async () => {
    const { registry } = served();
    const memory = new BatchMemory({ budgetBytes: 1 << 26, idleReleaseMs: 0 });
    const bytes = await readAll(request(registry, { seriesUids: ['1.2.1'] }), memory);
    const floats = await readAll(
      request(registry, { seriesUids: ['1.2.1'], dtype: DType.DTYPE_FLOAT32 }),
      memory,
    );
    assert.equal(floats.length, bytes.length);
    for (const [m, message] of floats.entries()) {
      const values = new Float32Array(new Uint8Array(message.image).buffer);
      const expected = Float32Array.from(bytes[m]!.image, (v) => v / 255);
      assert.deepEqual(values, expected);
    }
  });

  it('resumes at (series, tile) with exactly the tail of the whole stream', async () => {
    const { registry } = served();
    const memory = new BatchMemory({ budgetBytes: 1 << 26, idleReleaseMs: 0 });
    const whole = await readAll(request(registry, { batchSize: 1 }), memory);
    const resumed = await readAll(request(registry, { batchSize: 1, startSeries: 1, startTile: 3n }), memory);
    const at = whole.findIndex((message) => message.seriesIndex === 1 && message.firstTile === 3n);
    assert.ok(at > 0);
    assert.deepEqual(resumed, whole.slice(at));
  });

  it('gives every buffer back when the stream is cancelled mid-way', async () => {
    const { registry } = served();
    const memory = new BatchMemory({ budgetBytes: 1 << 26, idleReleaseMs: 0 });
    const abort = new AbortController();
    await cancelMidStream(streamReadyTiles(request(registry), abort.signal, deps(memory)), 3, abort);
    await allBuffersBack(memory);
  });

  it('ends with DATA_LOSS naming a series that cannot be read, after the series before it', async () => {
    const { registry } = served(1);
    const messages: TileBatch[] = [];
    const memory = new BatchMemory({ budgetBytes: 1 << 26, idleReleaseMs: 0 });
    await assert.rejects(
      (async () => {
        for await (const ready of streamReadyTiles(
          request(registry),
          new AbortController().signal,
          deps(memory),
        )) {
          messages.push(TileBatch.decode(Buffer.from(ready.batch.bytes)));
          ready.release();
        }
      })(),
      (error: unknown) =>
        error instanceof VoxelfeedError && error.code === 'DATA_LOSS' && /1\.2\.1/.test(error.message),
    );
    assert.ok(messages.length > 0 && messages.every((message) => message.seriesIndex === 0));
  });
});
