import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { isHeldOut } from '../../../server/sampling/series-split.js';
import { defaultTrainConfig } from '../../../trainer/config/train-config.js';
import { parseInferConfig } from '../../../trainer/infer/infer-config.js';
import { NO_PROGRESS } from '../../../trainer/infer/infer-progress.js';
import { type InferSummary, inferWithClient } from '../../../trainer/infer/run-infer.js';
import { train } from '../../../trainer/main.js';
import { createPhantomDataset, type TempDataset } from '../../support/phantom-dataset.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';

/** teem-unu's decoding of an NRRD file: its header fields and the voxel bytes of its raw re-save. */
async function readByTeem(file: string, scratch: string): Promise<{ header: string; data: Buffer }> {
  const out = path.join(scratch, `${path.basename(file)}.${Math.random().toString(36).slice(2)}.raw.nrrd`);
  await run('teem-unu', ['save', '-f', 'nrrd', '-e', 'raw', '-i', file, '-o', out]);
  const bytes = await readFile(out);
  await rm(out);
  const end = bytes.indexOf('\n\n');
  return { header: bytes.subarray(0, end).toString('latin1'), data: bytes.subarray(end + 2) };
}

function field(header: string, name: string): string {
  return new RegExp(`^${name}:=?\\s*(.*)$`, 'm').exec(header)?.[1]?.trim() ?? '';
}

/**
 * numpy's view of two NRRD files read as pynrrd reads them (index_order 'F': numpy's axis 0 is the file's
 * fastest axis): their shapes, and whether their arrays are equal.
 */
async function compareByNumpy(
  a: string,
  b: string,
): Promise<{ shapes: number[][]; equal: boolean; values: number[] }> {
  const script = `import gzip, json, sys, numpy as np
def read(name):
    raw = open(name, "rb").read()
    end = raw.index(b"\\n\\n")
    fields = dict(line.split(": ", 1) for line in raw[:end].decode("latin1").splitlines()[1:] if ": " in line and not line.startswith("#"))
    body = raw[end + 2:]
    if fields["encoding"] == "gzip":
        body = gzip.decompress(body)
    assert fields["type"] in ("uint8", "unsigned char", "uchar"), fields["type"]
    sizes = [int(s) for s in fields["sizes"].split()]
    return np.frombuffer(body, dtype=np.uint8).reshape(sizes, order="F")
x, y = read(sys.argv[1]), read(sys.argv[2])
print(json.dumps({"shapes": [list(x.shape), list(y.shape)], "equal": bool(x.shape == y.shape and np.array_equal(x, y)), "values": sorted(int(v) for v in np.unique(x))[:300]}))`;
  const { stdout } = await run(PYTHON, ['-c', script, a, b]);
  return JSON.parse(stdout);
}

describe('voxelfeed infer against a real server', () => {
  let dataset: TempDataset;
  let server: TestServer;
  let root: string;
  let uids: string[];

  before(async () => {
    // Sides that no tile divides, one smaller than the tile: edges shifted inside and padding both happen.
    dataset = await createPhantomDataset({ series: 4, shape: [20, 40, 18], seed: 21n });
    server = await startTestServer({ data: dataset.dir });
    root = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-infer-'));
    uids = (await readdir(dataset.dir))
      .filter((name) => name.endsWith('_clean.nrrd'))
      .map((name) => name.slice(0, -'_clean.nrrd'.length))
      .sort();
  });

  after(async () => {
    await server?.close();
    await dataset?.cleanup();
    await rm(root, { recursive: true, force: true });
  });

  async function infer(args: readonly string[]): Promise<InferSummary> {
    const config = parseInferConfig(['--server', server.address, '--progress', 'off', ...args], {});
    assert.ok(config !== 'help');
    return inferWithClient(config, {
      progress: NO_PROGRESS,
      log: () => {},
      now: () => performance.now() / 1000,
    });
  }

  for (const weighting of ['gaussian', 'constant'] as const) {
    it(`writes back every input image with the identity model, overlap 0.5, ${weighting} weighting`, async () => {
      const out = path.join(root, `identity-${weighting}`);
      const summary = await infer([
        '--model',
        'identity',
        '--out',
        out,
        '--series',
        uids.join(','),
        '--tile',
        '8,16,32',
        '--overlap',
        '0.5',
        '--weighting',
        weighting,
        '--batch-size',
        '3',
      ]);
      assert.deepEqual(
        summary.series.map((s) => s.uid),
        uids,
      );
      for (const uid of uids) {
        const file = path.join(out, `${uid}_pred.nrrd`);
        const predicted = await readByTeem(file, root);
        const input = await readByTeem(path.join(dataset.dir, `${uid}_clean.nrrd`), root);
        assert.equal(field(predicted.header, 'sizes'), field(input.header, 'sizes'), uid);
        assert.equal(field(predicted.header, 'spacings'), field(input.header, 'spacings'), uid);
        assert.equal(field(predicted.header, 'voxelfeed_series'), uid);
        assert.equal(field(predicted.header, 'voxelfeed_kind'), 'probability');
        assert.ok(predicted.data.equals(input.data), `${uid}: the prediction differs from the input image`);
      }
      const numpy = await compareByNumpy(
        path.join(out, `${uids[0]}_pred.nrrd`),
        path.join(dataset.dir, `${uids[0]}_clean.nrrd`),
      );
      assert.deepEqual(numpy.shapes, [
        [20, 40, 18],
        [20, 40, 18],
      ]);
      assert.ok(numpy.equal, 'numpy reads the prediction as the input image');
      assert.ok(summary.peakMergeBytes > 0 && summary.peakMergeBytes < 20 * 40 * 18 * 4 * 2);
    });
  }

  it('writes a 0/1 mask of probability >= --threshold', async () => {
    const out = path.join(root, 'mask');
    const uid = uids[1]!;
    await infer([
      '--model',
      'identity',
      '--out',
      out,
      '--series',
      uid,
      '--tile',
      '8,16,32',
      '--threshold',
      '0.5',
      '--encoding',
      'raw',
    ]);
    const predicted = await readByTeem(path.join(out, `${uid}_pred.nrrd`), root);
    const input = await readByTeem(path.join(dataset.dir, `${uid}_clean.nrrd`), root);
    assert.equal(field(predicted.header, 'voxelfeed_kind'), 'mask');
    const expected = Buffer.from(input.data.map((v) => (v / 255 >= 0.5 ? 1 : 0)));
    assert.ok(predicted.data.equals(expected), 'mask = input / 255 >= 0.5, voxel by voxel');
    assert.ok(
      expected.includes(1) && expected.includes(0),
      'the phantom has voxels on both sides of the threshold',
    );
    const numpy = await compareByNumpy(
      path.join(out, `${uid}_pred.nrrd`),
      path.join(out, `${uid}_pred.nrrd`),
    );
    assert.deepEqual(numpy.values, [0, 1]);
  });

  it('predicts the held-out series of a briefly trained checkpoint with its V-Net, at its crop', async () => {
    const checkpointDir = path.join(root, 'ckpt');
    await train(
      defaultTrainConfig({
        servers: [server.address],
        job: 'infer-test',
        steps: 2,
        batchSize: 2,
        cropSize: [8, 16, 16],
        model: 'tiny',
        seed: 4,
        checkpointDir,
        checkpointEvery: 2,
        validateEvery: 100,
        holdoutFraction: 0.5,
        metricsPort: null,
        backend: 'cpu',
        logEvery: 0,
      }),
      { log: { info: () => {}, warn: () => {} } },
    );
    const heldOut = uids.filter((uid) => isHeldOut(uid, Math.fround(0.5)));
    assert.ok(
      heldOut.length > 0 && heldOut.length < uids.length,
      `held out: ${heldOut.length} of ${uids.length}`,
    );
    const out = path.join(root, 'vnet');
    const summary = await infer(['--checkpoint', checkpointDir, '--out', out, '--backend', 'cpu']);
    assert.deepEqual(summary.tileSize, [8, 16, 16]);
    assert.deepEqual(summary.series.map((s) => s.uid).sort(), heldOut);
    for (const uid of heldOut) {
      const predicted = await readByTeem(path.join(out, `${uid}_pred.nrrd`), root);
      assert.equal(field(predicted.header, 'sizes'), '20 40 18');
      assert.equal(field(predicted.header, 'voxelfeed_kind'), 'probability');
      assert.equal(predicted.data.length, 20 * 40 * 18);
    }
  });

  it('refuses a tile the V-Net cannot take and a folder without a checkpoint, in one line each', async () => {
    const checkpointDir = path.join(root, 'ckpt');
    await assert.rejects(
      infer(['--checkpoint', checkpointDir, '--out', path.join(root, 'x'), '--tile', '8,18,16']),
      {
        message:
          /^--tile 8,18,16: the checkpoint's V-Net \(depth 3\) takes tile sides that are multiples of 4 .* axis 1 \(18\) is not; the nearest valid tile is --tile 8,20,16$/,
      },
    );
    await assert.rejects(infer(['--checkpoint', path.join(root, 'nothing'), '--out', path.join(root, 'x')]), {
      message: /no checkpoint there/,
    });
  });
});
