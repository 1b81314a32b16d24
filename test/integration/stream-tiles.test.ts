import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type ServiceError, status } from '@grpc/grpc-js';
import { createFeedClient } from '../../client/create-feed-client.js';
import { isFeedError } from '../../client/feed-error.js';
import type { StreamTilesInput } from '../../client/feed-requests.js';
import type { FeedTileBatch } from '../../client/feed-tile-batch.js';
import type { TileRetryEvent } from '../../client/tile-stream.js';
import { freeLoopbackPort } from '../../common/free-loopback-port.js';
import { DType, type StreamTilesRequest, type TileBatch } from '../../gen/voxelfeed/v1/voxelfeed.js';
import { axisTileOrigins } from '../../server/sampling/tile-grid.js';
import { pollUntil } from '../support/poll-until.js';
import { streamTilesRequest } from '../support/stream-tiles-request.js';
import { scrapeMetrics, startTestServer, type TestServer } from '../support/test-server.js';

const run = promisify(execFile);

/** Debian's python3, which has python3-numpy. */
const PYTHON = '/usr/bin/python3';

/** Shapes chosen so that every axis has a case: larger than the tile, equal to it, smaller (padded). */
const SHAPES = [
  [19, 41, 37],
  [7, 30, 50],
  [16, 24, 24],
] as const;
const SPACING = [1.25, 0.75, 0.75] as const;
const UIDS = SHAPES.map((_, i) => `1.3.6.1.4.1.14519.5.2.1.6279.6001.${700100 + i}`);
const TILE = [8, 24, 16] as const;
const PAD = 9;

/**
 * Writes the series with numpy (random voxels, a mask of one ball, the boxes .npy) and teem's `unu make` |
 * `unu save` (gzip NRRD with spacings), never with voxelfeed's writers, and keeps the arrays as .npy beside
 * the data set for the reference crops.
 */
const WRITE_DATASET = `import json, subprocess, sys, os
import numpy as np
spec = json.loads(sys.argv[1])
rng = np.random.default_rng(5)
for uid, shape in zip(spec["uids"], spec["shapes"]):
    n0, n1, n2 = shape
    image = rng.integers(0, 256, size=shape, dtype=np.uint8)
    i0, i1, i2 = np.meshgrid(np.arange(n0), np.arange(n1), np.arange(n2), indexing="ij")
    c = [n0 / 2, n1 / 2, n2 / 2]
    mask = (((i0 - c[0]) ** 2 + (i1 - c[1]) ** 2 + (i2 - c[2]) ** 2) <= 9).astype(np.uint8)
    np.save(os.path.join(spec["dir"], uid + "_bboxes.npy"), np.asarray([[*c, 6.0]], dtype=np.float32))
    for name, volume in (("_clean", image), ("_mask", mask)):
        np.save(os.path.join(spec["reference"], uid + name + ".npy"), volume)
        raw = os.path.join(spec["dir"], uid + name + ".raw")
        # NRRD axis 0 is the fastest in the file: Fortran order of the (axis 0, axis 1, axis 2) array.
        with open(raw, "wb") as out:
            out.write(volume.tobytes(order="F"))
        s = spec["spacing"]
        made = subprocess.run(["teem-unu", "make", "-i", raw, "-t", "uchar", "-s", str(n0), str(n1), str(n2),
            "-sp", str(s[0]), str(s[1]), str(s[2]), "-k", "domain", "domain", "domain"],
            check=True, capture_output=True).stdout
        subprocess.run(["teem-unu", "save", "-f", "nrrd", "-e", "gzip", "-o",
            os.path.join(spec["dir"], uid + name + ".nrrd")], input=made, check=True, capture_output=True)
        os.remove(raw)
`;

/**
 * The sha256 of each tile's image and mask bytes, cut by numpy from the arrays teem-unu wrote: np.pad with the
 * pad value (image) and 0 (mask) past the far edges, then the slice at the origin. Also reads the written
 * NRRD back with teem-unu, so the arrays are known to be what the files hold.
 */
const REFERENCE_TILES = `import json, subprocess, sys, os, hashlib
import numpy as np
spec = json.loads(sys.stdin.read())
t = spec["tile"]
arrays = {}
def load(uid, name):
    key = uid + name
    if key not in arrays:
        a = np.load(os.path.join(spec["reference"], key + ".npy"))
        raw = subprocess.run(["teem-unu", "save", "-f", "nrrd", "-e", "raw", "-i",
            os.path.join(spec["dir"], key + ".nrrd"), "-o", "-"], check=True, capture_output=True).stdout
        data = raw[raw.index(b"\\n\\n") + 2:]
        assert np.array_equal(np.frombuffer(data, np.uint8).reshape(a.shape, order="F"), a), key
        arrays[key] = a
    return arrays[key]
for uid, o0, o1, o2 in spec["tiles"]:
    out = []
    for name, pad in (("_clean", spec["pad"]), ("_mask", 0)):
        a = np.pad(load(uid, name), [(0, t[0]), (0, t[1]), (0, t[2])], constant_values=pad)
        out.append(hashlib.sha256(np.ascontiguousarray(a[o0:o0 + t[0], o1:o1 + t[1], o2:o2 + t[2]]).tobytes()).hexdigest())
    print(" ".join(out))
`;

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Every tile of a stream: series uid, tile number, origin, and the digests of its image and mask bytes. */
interface SeenTile {
  readonly uid: string;
  readonly series: number;
  readonly tile: number;
  readonly origin: readonly number[];
  readonly image: string;
  readonly mask: string;
}

function tilesOf(message: FeedTileBatch): SeenTile[] {
  const voxels = message.shape[1] * message.shape[2] * message.shape[3];
  const bytes = message.image instanceof Uint8Array ? message.image : null;
  assert.ok(bytes !== null && message.mask !== null);
  return message.origins.map((origin, b) => ({
    uid: message.seriesUid,
    series: message.seriesIndex,
    tile: message.firstTile + b,
    origin,
    image: sha256(bytes.subarray(b * voxels, (b + 1) * voxels)),
    mask: sha256(message.mask!.subarray(b * voxels, (b + 1) * voxels)),
  }));
}

function wireRequest(request: Partial<StreamTilesRequest>): StreamTilesRequest {
  return streamTilesRequest({
    tileSize: [...TILE],
    batchSize: 4,
    dtype: DType.DTYPE_UINT8,
    includeMask: true,
    padValue: PAD,
    ...request,
  });
}

/** The status a raw StreamTiles call ends with, and its messages. */
function rawCall(server: TestServer, request: Partial<StreamTilesRequest>) {
  return new Promise<{ code: status; details: string; messages: TileBatch[] }>((resolve) => {
    const messages: TileBatch[] = [];
    const call = server.client.streamTiles(wireRequest(request));
    call.on('data', (message: TileBatch) => messages.push(message));
    call.on('error', (error: ServiceError) =>
      resolve({ code: error.code, details: error.details, messages }),
    );
    call.on('end', () => resolve({ code: status.OK, details: '', messages }));
  });
}

describe('StreamTiles on a real server, against numpy crops of files teem-unu wrote', {
  timeout: 120_000,
}, () => {
  let root: string;
  let dir: string;
  let reference: string;
  let server: TestServer;
  const input: StreamTilesInput = { tileSize: TILE, batchSize: 4, includeMask: true, padValue: PAD };

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-tiles-'));
    dir = path.join(root, 'data');
    reference = path.join(root, 'reference');
    await run('mkdir', ['-p', dir, reference]);
    const spec = { dir, reference, uids: UIDS, shapes: SHAPES, spacing: SPACING };
    await run(PYTHON, ['-c', WRITE_DATASET, JSON.stringify(spec)], { maxBuffer: 1 << 24 });
    server = await startTestServer({ data: dir, limits: { maxStreams: 2 } });
  });

  after(async () => {
    await server?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  async function readTiles(request: StreamTilesInput, options = {}): Promise<FeedTileBatch[]> {
    const client = createFeedClient({ address: server.address });
    try {
      const messages: FeedTileBatch[] = [];
      for await (const message of client.streamTiles(request, options)) messages.push(message);
      return messages;
    } finally {
      client.close();
    }
  }

  it('sends every tile of every series equal to the numpy crop at its origin, padded past the edges', async () => {
    const messages = await readTiles(input);
    const seen = messages.flatMap(tilesOf);
    const job = { dir, reference, tile: TILE, pad: PAD, tiles: seen.map((t) => [t.uid, ...t.origin]) };
    const child = run(PYTHON, ['-c', REFERENCE_TILES], { maxBuffer: 1 << 26 });
    child.child.stdin?.end(JSON.stringify(job));
    const lines = (await child).stdout.trimEnd().split('\n');
    assert.equal(lines.length, seen.length);
    seen.forEach((tile, i) => {
      assert.equal(
        `${tile.image} ${tile.mask}`,
        lines[i],
        `tile ${tile.tile} of ${tile.uid} at ${tile.origin}`,
      );
    });
    // Some tile is padded: the series 7 voxels deep along axis 0 under tiles of 8.
    assert.ok(seen.some((tile) => tile.uid === UIDS[1]));
  });

  it('sends the series in catalog order and each grid as documented, axis 0 slowest, with shapes and spacing', async () => {
    const messages = await readTiles(input);
    assert.deepEqual([...new Set(messages.map((m) => m.seriesUid))], [...UIDS].sort());
    for (const message of messages) {
      const shape = SHAPES[UIDS.indexOf(message.seriesUid)]!;
      assert.deepEqual(message.volumeShape, shape);
      assert.deepEqual(message.spacing, [...SPACING]);
      assert.equal(message.seriesCount, 3);
      assert.equal(message.dtype, 'uint8');
      const axes = [0, 1, 2].map((k) => axisTileOrigins(shape[k]!, TILE[k]!, 0.5));
      assert.deepEqual(
        message.grid,
        axes.map((a) => a.length),
      );
      assert.equal(message.tilesInSeries, message.grid[0] * message.grid[1] * message.grid[2]);
      message.origins.forEach((origin, b) => {
        const t = message.firstTile + b;
        const n1 = message.grid[1];
        const n2 = message.grid[2];
        const expected = [
          axes[0]![Math.floor(t / (n1 * n2))],
          axes[1]![Math.floor(t / n2) % n1],
          axes[2]![t % n2],
        ];
        assert.deepEqual(origin, expected, `tile ${t} of ${message.seriesUid}`);
      });
      assert.ok(message.shape[0] === 4 || message.firstTile + message.shape[0] === message.tilesInSeries);
    }
  });

  it('sends the series named, in their order, as float32 = voxel / 255', async () => {
    const named = [UIDS[2]!, UIDS[0]!];
    const bytes = await readTiles({ ...input, seriesUids: named });
    const floats = await readTiles({ ...input, seriesUids: named, dtype: 'float32', includeMask: false });
    assert.deepEqual([...new Set(bytes.map((m) => m.seriesUid))], named);
    assert.equal(floats.length, bytes.length);
    floats.forEach((message, m) => {
      assert.equal(message.mask, null);
      assert.deepEqual(
        message.image,
        Float32Array.from(bytes[m]!.image, (v) => v / 255),
      );
    });
  });

  it('resumes at (series, tile) with exactly the rest of the uninterrupted stream', async () => {
    const whole = (await readTiles({ ...input, batchSize: 3 })).flatMap(tilesOf);
    const resumed = (await readTiles({ ...input, batchSize: 3, startSeries: 1, startTile: 5 })).flatMap(
      tilesOf,
    );
    const at = whole.findIndex((tile) => tile.series === 1 && tile.tile === 5);
    assert.ok(at > 0);
    assert.deepEqual(resumed, whole.slice(at));
  });

  const refusals: [string, Partial<StreamTilesRequest>, status, RegExp][] = [
    ['tile_size', { tileSize: [8, 24] }, status.INVALID_ARGUMENT, /^tile_size has 2 values/],
    ['overlap', { overlap: [1] }, status.INVALID_ARGUMENT, /^overlap is 1; /],
    [
      'series_uids',
      { seriesUids: ['1.2.3'] },
      status.INVALID_ARGUMENT,
      /^series_uids names 1 series this data set does not serve: "1.2.3"/,
    ],
    ['batch_size', { batchSize: 100_000 }, status.INVALID_ARGUMENT, /^batch_size is 100000; /],
    [
      'start_series',
      { startSeries: 3 },
      status.OUT_OF_RANGE,
      /^start_series is 3 but the request lists 3 series/,
    ],
    ['dataset', { dataset: 'nope' }, status.NOT_FOUND, /^data set "nope" is not served here/],
  ];
  for (const [field, request, code, pattern] of refusals) {
    it(`refuses a bad ${field} with ${status[code]} naming it, before any tile`, async () => {
      const outcome = await rawCall(server, request);
      assert.equal(outcome.code, code, outcome.details);
      assert.match(outcome.details, pattern);
      assert.equal(outcome.messages.length, 0);
    });
  }

  it('gives the client a FeedError naming the field of a refused request', async () => {
    await assert.rejects(readTiles({ ...input, overlap: 1.5 }), (error: unknown) => {
      return isFeedError(error) && error.code === 'INVALID_ARGUMENT' && /overlap is 1.5/.test(error.message);
    });
  });

  it('counts as a stream against --max-streams, and a cancel mid-stream frees its batch memory', async () => {
    const client = createFeedClient({ address: server.address, prefetch: 1 });
    const abort = new AbortController();
    const iterators = [0, 1].map(() =>
      client.streamTiles({ ...input, batchSize: 1 }, { signal: abort.signal })[Symbol.asyncIterator](),
    );
    try {
      for (const iterator of iterators) assert.equal((await iterator.next()).done, false);
      // Two tile streams hold both slots (--max-streams 2): a third call is refused.
      const third = await rawCall(server, {});
      assert.equal(third.code, status.RESOURCE_EXHAUSTED, third.details);
      assert.match(third.details, /--max-streams 2/);
      const page = await scrapeMetrics(server.running);
      assert.match(page, /^voxelfeed_open_streams 2$/m);
    } finally {
      abort.abort(new Error('stopped by the test'));
      for (const iterator of iterators) await iterator.return?.();
      client.close();
    }
    await pollUntil(
      async () => {
        const page = await scrapeMetrics(server.running);
        const inUse = /^voxelfeed_batch_memory_bytes\{state="in_use"\} (\d+)$/m.exec(page)?.[1];
        return inUse === '0' && /^voxelfeed_open_streams 0$/m.test(page) ? true : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 50, describe: () => 'batch memory in use back to 0 after the cancel' },
    );
    const page = await scrapeMetrics(server.running);
    assert.match(
      page,
      /grpc_server_handled_total\{grpc_type="server_stream",grpc_service="voxelfeed.v1.VoxelFeed",grpc_method="StreamTiles",grpc_code="OK"\} [1-9]/,
    );
  });
});

describe('a tile stream across a stopped and restarted server', { timeout: 120_000 }, () => {
  let root: string;
  let dir: string;

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-tiles-'));
    dir = path.join(root, 'data');
    const reference = path.join(root, 'reference');
    await run('mkdir', ['-p', dir, reference]);
    const spec = { dir, reference, uids: UIDS, shapes: SHAPES, spacing: SPACING };
    await run(PYTHON, ['-c', WRITE_DATASET, JSON.stringify(spec)], { maxBuffer: 1 << 24 });
  });

  after(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('resumes at the next tile on the new server: every tile once, in order, equal to an uninterrupted run', async () => {
    const port = await freeLoopbackPort();
    const start = () => startTestServer({ data: dir, config: { host: '127.0.0.1', port } });
    let server = await start();
    const address = `127.0.0.1:${port}`;
    const request: StreamTilesInput = { tileSize: TILE, batchSize: 1, includeMask: true, padValue: PAD };
    const reference: SeenTile[] = [];
    const plain = createFeedClient({ address });
    for await (const message of plain.streamTiles(request)) reference.push(...tilesOf(message));
    plain.close();

    const retries: TileRetryEvent[] = [];
    const client = createFeedClient({
      address,
      prefetch: 1,
      reconnect: { initialBackoffMs: 20, maxBackoffMs: 200, maxAttempts: 200 },
      // A 64 KiB window: the server cannot push the whole stream into the client's buffers before it stops.
      channelOptions: { 'grpc-node.flow_control_window': 65_535 },
    });
    const seen: SeenTile[] = [];
    try {
      for await (const message of client.streamTiles(request, { onRetry: (event) => retries.push(event) })) {
        seen.push(...tilesOf(message));
        if (seen.length === 20) {
          await server.close();
          server = await start();
        }
      }
    } finally {
      client.close();
      await server.close();
    }
    assert.ok(retries.length > 0, 'the stream was not cut');
    assert.equal(retries[0]!.error.code, 'UNAVAILABLE');
    assert.deepEqual(seen, reference);
  });
});
