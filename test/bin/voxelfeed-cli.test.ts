import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { credentials } from '@grpc/grpc-js';
import { VoxelFeedClient } from '../../gen/voxelfeed/v1/voxelfeed.js';
import { buildCatalog } from '../../server/dataset/catalog/build-catalog.js';
import { PHANTOM_MANIFEST_NAME } from '../../server/synth/write-phantom-dataset.js';
import { getDatasetInfo } from '../support/grpc-calls.js';
import { cleanEnv, runVoxelfeed } from '../support/run-voxelfeed.js';
import { VOXELFEED_BIN } from '../support/spawn-server.js';

/*
 * The CLI as users run it: `node bin/voxelfeed.js ...` in a child process, exit codes and the text on
 * stdout and stderr. What the commands compute is tested next to their modules; here, that they are wired.
 */

const voxelfeed = runVoxelfeed;

interface Serving {
  readonly child: ChildProcess;
  readonly port: number;
  readonly firstLine: string;
  stderr(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** `voxelfeed serve ARGS`, resolved at its first stdout line; rejects with stderr if it exits before. */
async function serve(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Serving> {
  const child = spawn(process.execPath, [VOXELFEED_BIN, 'serve', ...args], {
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const firstLine = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('\n')) resolve(stdout.slice(0, stdout.indexOf('\n')));
    });
    exited.then((code) =>
      reject(new Error(`voxelfeed serve exited with ${code} before listening:\n${stderr}`)),
    );
  });
  const port = Number(/^listening on 127\.0\.0\.1:(\d+)$/.exec(firstLine)?.[1]);
  return {
    child,
    port,
    firstLine,
    stderr: () => stderr,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

async function withClient<T>(port: number, work: (client: VoxelFeedClient) => Promise<T>): Promise<T> {
  const client = new VoxelFeedClient(`127.0.0.1:${port}`, credentials.createInsecure());
  try {
    return await work(client);
  } finally {
    client.close();
  }
}

function assertMentions(text: string, fragments: readonly string[]): void {
  for (const fragment of fragments) assert.ok(text.includes(fragment), `"${text}" lacks "${fragment}"`);
}

describe('voxelfeed (the CLI)', () => {
  let root = '';
  let out = '';
  let broken = '';
  let brokenUid = '';

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-cli-'));
    out = path.join(root, 'phantom');
  });
  after(async () => {
    if (root !== '') await rm(root, { recursive: true, force: true });
  });

  describe('usage', { concurrency: true }, () => {
    for (const args of [
      ['--help'],
      ['serve', '--help'],
      ['synth', '--help'],
      ['index', '--help'],
      ['infer', '--help'],
    ]) {
      it(`prints usage for voxelfeed ${args.join(' ')} and exits 0`, async () => {
        const { code, stdout, stderr } = await voxelfeed(args);
        assert.equal(code, 0, stderr);
        const command = args.length > 1 ? `${args[0]} ` : '<command>';
        assert.match(stdout, new RegExp(`^Usage: voxelfeed ${command}`));
      });
    }

    it('exits 2 with the usage for an unknown command, or none', async () => {
      const unknown = await voxelfeed(['frobnicate']);
      assert.equal(unknown.code, 2);
      assertMentions(unknown.stderr, ['unknown command "frobnicate"', 'Usage: voxelfeed <command>']);
      const none = await voxelfeed([]);
      assert.equal(none.code, 2);
      assertMentions(none.stderr, ['Usage: voxelfeed <command>']);
    });

    it('exits 2 naming every bad infer option, one line each, without a stack', async () => {
      const bad = await voxelfeed(['infer', '--model', 'identity', '--overlap', '1', '--tile', '8,8']);
      assert.equal(bad.code, 2);
      assertMentions(bad.stderr, [
        'voxelfeed infer: bad options:',
        '--overlap 1: give one share for every axis or three',
        '--tile 8,8: give three sizes',
        'missing --out DIR',
        'voxelfeed infer --help',
      ]);
      assert.doesNotMatch(bad.stderr, /\n\s+at /);
      assert.equal(bad.stdout, '');
    });

    it('exits 2 naming a bad serve value and an unknown serve flag, without starting', async () => {
      const port = await voxelfeed(['serve', '--port', 'nope']);
      assert.equal(port.code, 2);
      assertMentions(port.stderr, ['--port nope', 'integer from 0 to 65535']);
      assert.equal(port.stdout, '');
      const bogus = await voxelfeed(['serve', '--bogus']);
      assert.equal(bogus.code, 2);
      assertMentions(bogus.stderr, ['unknown option --bogus', 'voxelfeed serve --help']);
    });
  });

  describe('synth and index', () => {
    before(async () => {
      const synth = await voxelfeed(['synth', out, '--series', '3', '--shape', '16,32,32']);
      assert.equal(synth.code, 0, synth.stderr);
      assertMentions(synth.stdout, ['wrote 3 series', '16x32x32', out]);
      broken = path.join(root, 'broken');
      await cp(out, broken, { recursive: true });
      const manifest = JSON.parse(await readFile(path.join(out, PHANTOM_MANIFEST_NAME), 'utf8'));
      brokenUid = manifest.files[0].uid;
      await rm(path.join(broken, `${brokenUid}_mask.nrrd`));
    });

    it('synth writes an image, a mask and boxes per series, and the manifest', async () => {
      const names = await readdir(out);
      assert.equal(names.length, 3 * 3 + 1);
      for (const suffix of ['_clean.nrrd', '_mask.nrrd', '_bboxes.npy']) {
        assert.equal(names.filter((name) => name.endsWith(suffix)).length, 3, suffix);
      }
      assert.ok(names.includes(PHANTOM_MANIFEST_NAME));
    });

    it('index prints the series count and the fingerprint the catalog computes', async () => {
      const { code, stdout, stderr } = await voxelfeed(['index', out]);
      assert.equal(code, 0, stderr);
      const catalog = await buildCatalog({ source: out });
      assert.match(stdout, /^series +3$/m);
      assert.match(stdout, new RegExp(`^fingerprint +${catalog.fingerprint}$`, 'm'));
      assert.match(stdout, /^skipped +0$/m);
    });

    it('index lists a broken series under skipped, and --strict makes that exit 1', async () => {
      // 1 of 3 skipped is above the default --max-skipped (10%): raised so that only --strict decides.
      const plain = await voxelfeed(['index', broken, '--max-skipped', '1']);
      assert.equal(plain.code, 0, plain.stderr);
      assert.match(plain.stdout, /^series +2$/m);
      assert.match(plain.stdout, /^skipped +1$/m);
      assert.match(plain.stdout, new RegExp(`^  ${brokenUid.replaceAll('.', '\\.')}: no mask file`, 'm'));
      const strict = await voxelfeed(['index', broken, '--strict', '--max-skipped', '1']);
      assert.equal(strict.code, 1);
    });

    it('index --json prints one parseable object', async () => {
      const { code, stdout } = await voxelfeed(['index', '--json', broken, '--max-skipped', '1']);
      assert.equal(code, 0);
      const summary = JSON.parse(stdout);
      assert.equal(summary.series, 2);
      assert.equal(summary.source, broken);
      assert.equal(summary.decoded_bytes, 2 * 2 * 16 * 32 * 32);
      assert.deepEqual(
        summary.skipped.map((entry: { uid: string }) => entry.uid),
        [brokenUid],
      );
    });

    it('serve prints "listening on 127.0.0.1:PORT", answers GetDatasetInfo and exits 0 on SIGTERM', async () => {
      const server = await serve(['--data', out, '--port', '0']);
      try {
        assert.match(server.firstLine, /^listening on 127\.0\.0\.1:\d+$/);
        assert.ok(server.port > 0);
        const info = await withClient(server.port, (client) => getDatasetInfo(client));
        const catalog = await buildCatalog({ source: out });
        assert.equal(info.dataset, 'phantom');
        assert.equal(info.series, 3);
        assert.equal(info.fingerprint, catalog.fingerprint);
      } finally {
        assert.equal(await server.stop(), 0, server.stderr());
      }
    });

    it('serve --strict refuses to start with a broken series, naming it', async () => {
      const { code, stdout, stderr } = await voxelfeed([
        'serve',
        '--strict',
        '--data',
        broken,
        '--port',
        '0',
      ]);
      assert.equal(code, 1);
      assert.equal(stdout, '');
      assertMentions(stderr, ['1 series cannot be served', brokenUid, 'without --strict']);
    });
  });

  describe('a data set with nothing to serve', () => {
    it('makes index and serve exit 1, saying why, and a missing path is named', async () => {
      const empty = path.join(root, 'empty');
      await mkdir(empty);
      const missing = path.join(root, 'missing');
      const [index, served, absent] = await Promise.all([
        voxelfeed(['index', empty]),
        voxelfeed(['serve', '--data', empty, '--port', '0']),
        voxelfeed(['index', missing]),
      ]);
      assert.equal(index.code, 1);
      assert.match(index.stdout, /^series +0$/m);
      assertMentions(index.stdout, ['nothing to serve']);
      assert.equal(served.code, 1);
      assertMentions(served.stderr, [`no series found in ${empty}`, '<uid>_clean.nrrd']);
      assert.equal(absent.code, 1);
      assertMentions(absent.stderr, [`data set ${missing} does not exist`]);
    });
  });

  describe('the embedded default data set', () => {
    it('is generated once into VOXELFEED_CACHE_DIR and reused by the next start', async () => {
      const cacheDir = path.join(root, 'cache');
      const env = { VOXELFEED_CACHE_DIR: cacheDir };
      const first = await serve(['--port', '0'], env);
      let folders: string[] = [];
      let info: Awaited<ReturnType<typeof getDatasetInfo>>;
      try {
        info = await withClient(first.port, (client) => getDatasetInfo(client));
        folders = await readdir(cacheDir);
        assertMentions(first.stderr(), ['generated the default phantom data set']);
      } finally {
        assert.equal(await first.stop(), 0, first.stderr());
      }
      assert.equal(folders.length, 1, `one data set folder and no leftover: ${folders.join(', ')}`);
      const dataset = folders[0]!;
      assert.equal(info.series, 12);
      assert.equal(info.dataset, 'phantom');
      const manifest = path.join(cacheDir, dataset, PHANTOM_MANIFEST_NAME);
      const written = (await stat(manifest)).mtimeMs;

      const second = await serve(['--port', '0'], env);
      try {
        const again = await withClient(second.port, (client) => getDatasetInfo(client));
        assert.equal(again.fingerprint, info.fingerprint);
        assertMentions(second.stderr(), ['using the default phantom data set']);
        assert.ok(!second.stderr().includes('generated the default'), second.stderr());
      } finally {
        assert.equal(await second.stop(), 0, second.stderr());
      }
      assert.deepEqual(await readdir(cacheDir), [dataset]);
      assert.equal((await stat(manifest)).mtimeMs, written);
    });
  });
});
