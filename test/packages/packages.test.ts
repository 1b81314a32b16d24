import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createFeedClient } from '../../client/index.js';
import { dockerfileInstructions, REPO_ROOT } from '../deploy/deploy-files.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/*
 * The packages as others get them, compiled by `npm run build`: the client packed by `npm pack` and installed
 * by npm into an empty folder outside the repository, run by plain node (no tsx); and the server image's
 * install (deploy/docker/server.Dockerfile, its deps and runtime stages, without Docker). One file, because
 * every part builds into the same dist/ folders and two builds at once would race.
 */

const exec = promisify(execFile);
/** npm's settings from an `npm test` above this process (npm_config_*) must not reach the installs. */
const npmEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('npm_')));

async function npm(args: readonly string[], cwd: string, timeoutMs: number): Promise<string> {
  const { stdout } = await exec('npm', [...args], {
    cwd,
    env: npmEnv,
    timeout: timeoutMs,
    maxBuffer: 64 << 20,
  });
  return stdout;
}

/** Runs plain `node ARGS` (no tsx, no NODE_OPTIONS) in `cwd` to its end; a non-zero exit resolves too. */
async function plainNode(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [...args], {
    cwd,
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
    killSignal: 'SIGKILL',
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code] = await once(child, 'close');
  return { code: code as number | null, stdout, stderr };
}

/** Every file under `dir`, as paths relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

/** The specifiers a compiled module imports (static, re-exported and dynamic with a literal). */
function importedSpecifiers(source: string): string[] {
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;
  return [...source.matchAll(pattern)].map((match) => match[1] ?? '');
}

const sha256 = (bytes: NodeJS.ArrayBufferView | null) =>
  bytes === null ? null : createHash('sha256').update(bytes).digest('hex');

/** The consumer's program: plain JavaScript that knows voxelfeed only as the installed @voxelfeed/client. */
const CONSUMER = `
import { createHash } from 'node:crypto';
import { createFeedClient } from '@voxelfeed/client';

const [address, request] = process.argv.slice(2);
const sha256 = (bytes) => (bytes === null ? null : createHash('sha256').update(bytes).digest('hex'));
const client = createFeedClient({ address });
const batches = [];
try {
  for await (const batch of client.streamBatches(JSON.parse(request))) {
    batches.push({ step: batch.step, shape: batch.shape, dtype: batch.dtype, image: sha256(batch.image),
      mask: sha256(batch.mask), series: batch.samples.map((sample) => sample.seriesUid) });
  }
} finally {
  client.close();
}
console.log(JSON.stringify({ execArgv: process.execArgv, client: import.meta.resolve('@voxelfeed/client'), batches }));
`;

const REQUEST = { seed: 11, epoch: 0, batchSize: 2, cropSize: [8, 16, 16], includeMask: true, maxSteps: 2 };

describe('the packages, compiled', { timeout: 900_000 }, () => {
  let scratch: string;
  let dataset: TempDataset;

  before(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-packages-'));
    dataset = await createPhantomDataset({ series: 4, shape: [24, 48, 48], seed: 7n });
    // `npm run build`: tsc -b over every package (incremental: quick when dist/ is up to date).
    await npm(['run', 'build'], REPO_ROOT, 300_000);
  });

  after(async () => {
    await dataset?.cleanup();
    await rm(scratch, { recursive: true, force: true });
  });

  it("the compiled trainer registers the TensorFlow.js gradients in plain node, without tsx's loaders", async () => {
    const code = `
      const tf = await import('@tensorflow/tfjs-core');
      const { registerTfjsGradients } = await import('@voxelfeed/trainer/model/register-gradients.js');
      registerTfjsGradients();
      console.log(JSON.stringify(['Conv3D', 'Prelu', 'Mean'].map((kernel) => tf.getGradient(kernel) !== undefined)));
    `;
    const { code: exit, stdout, stderr } = await plainNode(['--input-type=module', '-e', code], REPO_ROOT);
    assert.equal(exit, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), [true, true, true]);
  });

  describe('@voxelfeed/client packed by npm pack', () => {
    const packed = new Map<string, { filename: string; files: string[] }>();
    let app: string;
    let server: TestServer;

    before(async () => {
      const tarballs = path.join(scratch, 'tarballs');
      await mkdir(tarballs);
      for (const folder of ['gen', 'client']) {
        const out = await npm(
          ['pack', '--json', '--pack-destination', tarballs],
          path.join(REPO_ROOT, folder),
          240_000,
        );
        // The prepack script's own output comes first: the JSON report is the last thing printed.
        const [report] = JSON.parse(out.slice(out.lastIndexOf('\n[') + 1)) as Array<{
          name: string;
          filename: string;
          files: Array<{ path: string }>;
        }>;
        assert.ok(report !== undefined, out);
        packed.set(report.name, { filename: report.filename, files: report.files.map((file) => file.path) });
      }
      // A trainer's project in another repository: an empty folder, the two tarballs, npm's registry for the rest.
      app = path.join(scratch, 'trainer-project');
      await mkdir(app);
      await writeFile(
        path.join(app, 'package.json'),
        '{ "name": "elsewhere", "private": true, "type": "module" }\n',
      );
      const specs = [...packed.values()].map((pack) => path.join(tarballs, pack.filename));
      await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', ...specs], app, 240_000);
      await writeFile(path.join(app, 'stream.mjs'), CONSUMER);
      server = await startTestServer({ data: dataset.dir });
    });

    after(async () => {
      await server?.close();
    });

    it('holds compiled JavaScript and declarations only: no TypeScript source, no server or trainer code', async () => {
      const files = packed.get('@voxelfeed/client')?.files ?? [];
      assert.ok(files.includes('dist/index.js') && files.includes('dist/index.d.ts'), files.join('\n'));
      for (const file of files) {
        assert.ok(file === 'package.json' || /^dist\/.*(\.js|\.d\.ts)$/.test(file), `packed ${file}`);
        assert.doesNotMatch(file, /server|trainer/);
      }
      // What its modules import: node's, its own files, and its declared dependencies; never the server,
      // the trainer or the repository's common package (which no trainer elsewhere could install).
      const manifest = JSON.parse(await readFile(path.join(REPO_ROOT, 'client', 'package.json'), 'utf8')) as {
        dependencies: Record<string, string>;
      };
      const installed = path.join(app, 'node_modules', '@voxelfeed', 'client');
      for (const file of files.filter((name) => name.endsWith('.js') || name.endsWith('.d.ts'))) {
        for (const specifier of importedSpecifiers(await readFile(path.join(installed, file), 'utf8'))) {
          if (specifier.startsWith('node:')) continue;
          if (specifier.startsWith('.')) {
            const target = path.posix.join(path.posix.dirname(file), specifier).replace(/\.js$/, '');
            assert.ok(files.includes(`${target}.js`), `${file} imports ${specifier}, which is not packed`);
            continue;
          }
          const name = specifier
            .split('/')
            .slice(0, specifier.startsWith('@') ? 2 : 1)
            .join('/');
          assert.ok(name in manifest.dependencies, `${file} imports ${specifier}, not a dependency`);
        }
      }
      const proto = packed.get('@voxelfeed/proto')?.files ?? [];
      assert.ok(proto.includes('dist/voxelfeed/v1/voxelfeed.js'), proto.join('\n'));
      assert.deepEqual(
        proto.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts')),
        [],
      );
    });

    it('streams from a real server, run by plain node from the folder it was installed into, the batches the sources stream', async () => {
      const { code, stdout, stderr } = await plainNode(
        ['stream.mjs', server.address, JSON.stringify(REQUEST)],
        app,
      );
      assert.equal(code, 0, stderr);
      const result = JSON.parse(stdout) as { execArgv: string[]; client: string; batches: unknown[] };
      assert.deepEqual(result.execArgv, []);
      // Installed, not linked: the module npm put in the project, outside the repository.
      assert.ok(
        result.client.startsWith(`file://${path.join(app, 'node_modules', '@voxelfeed', 'client')}/`),
      );
      assert.ok(!result.client.startsWith(`file://${REPO_ROOT}`));
      // The same batches as the client's TypeScript sources in this process get from the same server.
      const reference = createFeedClient({ address: server.address });
      const expected = [];
      try {
        for await (const batch of reference.streamBatches({ ...REQUEST, cropSize: [8, 16, 16] })) {
          expected.push({
            step: batch.step,
            shape: batch.shape,
            dtype: batch.dtype,
            image: sha256(batch.image),
            mask: sha256(batch.mask),
            series: batch.samples.map((sample) => sample.seriesUid),
          });
        }
      } finally {
        reference.close();
      }
      assert.equal(expected.length, REQUEST.maxSteps);
      assert.deepEqual(result.batches, expected);
    });
  });

  describe('the server image install (deploy/docker/server.Dockerfile, without Docker)', () => {
    let image: string;

    before(async () => {
      // The Dockerfile's deps stage as written (its npm ci on this lockfile), and its runtime stage's copies,
      // with this checkout's build standing for the build stage. The one change: no `npm cache clean`, as
      // the cache here is the machine's.
      const stages = dockerStages(
        await readFile(path.join(REPO_ROOT, 'deploy/docker/server.Dockerfile'), 'utf8'),
      );
      const deps = path.join(scratch, 'deps');
      image = path.join(scratch, 'image');
      const from: Record<string, string> = { build: REPO_ROOT, deps };
      for (const [dir, stage] of [
        [deps, stages.get('deps')],
        [image, stages.get('')],
      ] as const) {
        assert.ok(stage !== undefined);
        await mkdir(dir, { recursive: true });
        for (const { keyword, rest } of stage) {
          if (keyword === 'COPY') await dockerCopy(rest, dir, from);
          if (keyword === 'RUN' && dir === deps) {
            const command = rest.replace(/\s*&&\s*npm cache clean --force/, '');
            await exec('sh', ['-c', command], { cwd: dir, env: npmEnv, timeout: 240_000 });
          }
        }
      }
    });

    it('holds no TensorFlow.js, no tsx and no TypeScript source', async () => {
      const modules = await readdir(path.join(image, 'node_modules'));
      assert.ok(modules.includes('@grpc') && modules.includes('@voxelfeed'), modules.join(' '));
      for (const absent of ['@tensorflow', 'tsx', 'typescript', 'esbuild'])
        assert.ok(!modules.includes(absent), absent);
      assert.deepEqual((await readdir(path.join(image, 'node_modules', '@voxelfeed'))).sort(), [
        'cli',
        'common',
        'proto',
        'server',
      ]);
      const sources = (await filesUnder(image)).filter(
        (file) => !file.startsWith('node_modules') && /\.ts$/.test(file) && !file.endsWith('.d.ts'),
      );
      assert.deepEqual(sources, []);
    });

    it('serves with the compiled code, passes its health check, and says in one line that train is not installed', async () => {
      const env = { NODE_ENV: 'production', VOXELFEED_CACHE_DIR: path.join(scratch, 'cache') };
      const child = spawn(
        process.execPath,
        [
          'bin/voxelfeed.js',
          'serve',
          '--host',
          '127.0.0.1',
          '--port',
          '0',
          '--metrics-port',
          '0',
          '--data',
          dataset.dir,
          // The batch is cut, and its volumes decoded, by compiled worker threads that plain node starts.
          '--workers',
          '2',
        ],
        { cwd: image, env: { PATH: process.env['PATH'], ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      try {
        const port = await listeningPort(child);
        const health = await plainNode(
          ['deploy/docker/grpc-health-check.mjs', `127.0.0.1:${port}`],
          image,
          env,
        );
        assert.equal(health.code, 0, health.stderr);
        const client = createFeedClient({ address: `127.0.0.1:${port}` });
        try {
          const steps: number[] = [];
          for await (const batch of client.streamBatches({
            ...REQUEST,
            cropSize: [8, 16, 16],
            maxSteps: 1,
          })) {
            steps.push(batch.step);
          }
          assert.deepEqual(steps, [0]);
        } finally {
          client.close();
        }
      } finally {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      const train = await plainNode(['bin/voxelfeed.js', 'train', '--server', '127.0.0.1:1'], image, env);
      assert.equal(train.code, 1, train.stderr);
      assert.equal(
        train.stderr,
        'voxelfeed train: the trainer is not installed here (no @voxelfeed/trainer package, as in the server ' +
          'image); run it from the trainer image or a checkout\n',
      );
      // The demo runs a server and trainers: in the server image it names the missing trainer, no stack trace.
      const demo = await plainNode(['bin/voxelfeed.js', 'demo', '--steps', '1'], image, env);
      assert.equal(demo.code, 1, demo.stderr);
      assert.equal(
        demo.stderr,
        'voxelfeed demo: the trainer is not installed here (no @voxelfeed/trainer package, as in the server ' +
          'image); run it from the trainer image or a checkout\n',
      );
    });
  });
});

/** A Dockerfile's stages by name ('' for the last), each its instructions after FROM. */
function dockerStages(text: string): Map<string, Array<{ keyword: string; rest: string }>> {
  const stages = new Map<string, Array<{ keyword: string; rest: string }>>();
  let current: Array<{ keyword: string; rest: string }> = [];
  let name = '';
  for (const line of dockerfileInstructions(text)) {
    if (line.keyword === 'FROM') {
      if (current.length > 0 || name !== '') stages.set(name, current);
      current = [];
      name = /\sAS\s+(\S+)$/i.exec(line.rest)?.[1] ?? '';
      continue;
    }
    current.push(line);
  }
  stages.set(name, current);
  return stages;
}

/** `COPY [--from=STAGE] SRC... DEST` with WORKDIR /app: sources from the context or the stage's folder. */
async function dockerCopy(rest: string, workdir: string, stages: Record<string, string>): Promise<void> {
  const words = rest.split(/\s+/);
  const stage = /^--from=(\S+)$/.exec(words[0] ?? '')?.[1];
  const paths = stage === undefined ? words : words.slice(1);
  const dest = paths.pop() ?? '';
  for (const source of paths) {
    const root = stage === undefined ? REPO_ROOT : (stages[stage] ?? assert.fail(`no stage ${stage}`));
    const from =
      stage === undefined ? path.join(root, source) : path.join(root, path.relative('/app', source));
    const to = dest.endsWith('/')
      ? path.join(workdir, dest, path.basename(source))
      : path.join(workdir, dest);
    // Links stay links, as Docker copies them: node_modules/@voxelfeed/* point at the package folders.
    await mkdir(path.dirname(to), { recursive: true });
    await cp(from, to, { recursive: true, verbatimSymlinks: true });
  }
}

/** The port of `listening on 127.0.0.1:PORT`, the first line `voxelfeed serve` prints. */
async function listeningPort(child: ChildProcess): Promise<number> {
  let stdout = '';
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /^listening on 127\.0\.0\.1:(\d+)$/m.exec(stdout);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`voxelfeed serve exited with ${code}:\n${stderr}`)));
  });
}
