import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BoxLayout, writeBoxLayoutDataset } from '../support/box-layout-dataset.js';
import { pollUntil } from '../support/poll-until.js';
import { spawnServer, VOXELFEED_BIN } from '../support/spawn-server.js';

/*
 * What a person starting `voxelfeed serve` or running `voxelfeed index` sees when series are skipped or boxes
 * miss their masks: exit codes and the lines on stdout and stderr, with data sets written by numpy and unu.
 */

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The parent's environment without VOXELFEED_* variables, so a developer's settings cannot change a result. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('VOXELFEED_')),
  );
  return { ...env, ...extra };
}

/** Runs `voxelfeed ARGS` to its end (a serve that starts is killed after 60 s, failing the test). */
async function voxelfeed(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Finished> {
  const child = spawn(process.execPath, [VOXELFEED_BIN, ...args], {
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const [code] = await once(child, 'close');
  return { code: code as number | null, stdout, stderr };
}

/** stderr without the JSON log lines: what a person reads. */
function plainLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line !== '' && !line.startsWith('{'));
}

function assertMentions(text: string, fragments: readonly string[]): void {
  for (const fragment of fragments) assert.ok(text.includes(fragment), `"${text}" lacks "${fragment}"`);
}

function layouts(counts: Partial<Record<BoxLayout, number>>): BoxLayout[] {
  return (Object.entries(counts) as Array<[BoxLayout, number]>).flatMap(([layout, n]) =>
    Array.from({ length: n }, () => layout),
  );
}

describe('voxelfeed serve and index on skipped series', () => {
  let root = '';
  /** 24 series, 21 with boxes written (x, y, z): their centres fall outside the volume. */
  let mostSkipped = '';
  /** 24 series, 1 with boxes written (x, y, z). */
  let oneSkipped = '';

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-catalog-checks-'));
    mostSkipped = path.join(root, 'most-skipped');
    oneSkipped = path.join(root, 'one-skipped');
    await Promise.all([
      writeBoxLayoutDataset(mostSkipped, layouts({ xyz: 21, voxels: 3 })),
      writeBoxLayoutDataset(oneSkipped, layouts({ xyz: 1, voxels: 23 })),
    ]);
  });
  after(async () => {
    if (root !== '') await rm(root, { recursive: true, force: true });
  });

  describe('skipped series', { concurrency: true }, () => {
    it('serve refuses to start when 21 of 24 are skipped, in one line naming the share, the limit, the flag and the fix', async () => {
      const { code, stdout, stderr } = await voxelfeed([
        'serve',
        '--data',
        mostSkipped,
        '--port',
        '0',
        '--metrics-port',
        'off',
      ]);
      assert.equal(code, 1, stderr);
      assert.equal(stdout, '', 'nothing was served');
      const lines = plainLines(stderr);
      assert.equal(lines.length, 1, stderr);
      assertMentions(lines[0]!, [
        'voxelfeed serve: 21 of 24 series',
        'skipped (87.5%)',
        '--max-skipped 0.1 (10%, VOXELFEED_MAX_SKIPPED)',
        `voxelfeed index ${mostSkipped}`,
      ]);
      assert.ok(!stderr.includes('    at '), 'no stack trace');
    });

    it('index exits 1 on the same data set, after its summary, with the same limit', async () => {
      const { code, stdout, stderr } = await voxelfeed(['index', mostSkipped]);
      assert.equal(code, 1, stderr);
      assert.match(stdout, /^skipped +21$/m);
      const lines = plainLines(stderr);
      assert.equal(lines.length, 1, stderr);
      assertMentions(lines[0]!, ['voxelfeed index: 21 of 24 series', '(87.5%)', '--max-skipped 0.1']);
    });

    it('--max-skipped 1 (or the variable) lets serve start and index pass, with the share as a warning line', async () => {
      const server = await spawnServer(['--data', mostSkipped, '--max-skipped', '1'], cleanEnv());
      try {
        const warning = await pollUntil(
          async () => plainLines(server.stderr()).find((line) => line.includes('warning')),
          { timeoutMs: 10_000, describe: () => `a warning line in:\n${server.stderr()}` },
        );
        assertMentions(warning, [
          'voxelfeed serve: warning: 21 of 24 series',
          '(87.5%)',
          'within --max-skipped 1 (100%)',
        ]);
      } finally {
        assert.equal(await server.stop(), 0, server.stderr());
      }
      const index = await voxelfeed(['index', mostSkipped], { VOXELFEED_MAX_SKIPPED: '100%' });
      assert.equal(index.code, 0, index.stderr);
      assertMentions(plainLines(index.stderr).join('\n'), [
        'warning: 21 of 24 series',
        'within --max-skipped 1',
      ]);
    });

    it('serve starts with 1 of 24 skipped and prints the share on stderr; index passes with the same line', async () => {
      const server = await spawnServer(['--data', oneSkipped], cleanEnv());
      try {
        const warning = await pollUntil(
          async () => plainLines(server.stderr()).find((line) => line.includes('warning')),
          { timeoutMs: 10_000, describe: () => `a warning line in:\n${server.stderr()}` },
        );
        assertMentions(warning, [
          'voxelfeed serve: warning: 1 of 24 series',
          '(4.17%)',
          'within --max-skipped 0.1 (10%)',
          `voxelfeed index ${oneSkipped}`,
        ]);
      } finally {
        assert.equal(await server.stop(), 0, server.stderr());
      }
      const index = await voxelfeed(['index', oneSkipped]);
      assert.equal(index.code, 0, index.stderr);
      assertMentions(plainLines(index.stderr).join('\n'), ['warning: 1 of 24 series', '(4.17%)']);
      const strict = await voxelfeed(['index', oneSkipped, '--max-skipped', '0']);
      assert.equal(strict.code, 1, strict.stderr);
    });

    it('refuses a bad --max-skipped with exit status 2, naming it', async () => {
      const [index, serve] = await Promise.all([
        voxelfeed(['index', oneSkipped, '--max-skipped', '1.5']),
        voxelfeed(['serve', '--data', oneSkipped, '--max-skipped', 'lots']),
      ]);
      assert.equal(index.code, 2);
      assertMentions(index.stderr, ['--max-skipped 1.5: must be a share from 0 to 1']);
      assert.equal(serve.code, 2);
      assertMentions(serve.stderr, ['--max-skipped lots: must be a share from 0 to 1']);
    });
  });
});
