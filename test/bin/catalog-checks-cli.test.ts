import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { credentials } from '@grpc/grpc-js';
import { VoxelFeedClient } from '../../gen/voxelfeed/v1/voxelfeed.js';
import { type BoxLayout, writeBoxLayoutDataset } from '../support/box-layout-dataset.js';
import { getDatasetInfo } from '../support/grpc-calls.js';
import { pollUntil } from '../support/poll-until.js';
import { cleanEnv, type Finished, runVoxelfeed } from '../support/run-voxelfeed.js';
import { type ServerProcess, spawnServer } from '../support/spawn-server.js';

/*
 * What a person starting `voxelfeed serve` or running `voxelfeed index` sees when series are skipped or boxes
 * miss their masks: exit codes and the lines on stdout and stderr, with data sets written by numpy and unu.
 */

/** Runs `voxelfeed ARGS` to its end (a serve that starts is killed after 60 s, failing the test). */
function voxelfeed(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Finished> {
  return runVoxelfeed(args, env, 60_000);
}

/** stderr without the JSON log lines: what a person reads. */
function plainLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line !== '' && !line.startsWith('{'));
}

/**
 * The series a started server serves, asked over gRPC. Also what makes stopping it safe: a process that
 * answers has passed the point where it starts handling SIGTERM.
 */
async function servedSeries(server: ServerProcess): Promise<number> {
  const client = new VoxelFeedClient(server.address, credentials.createInsecure());
  try {
    return (await getDatasetInfo(client)).series;
  } finally {
    client.close();
  }
}

function assertMentions(text: string, fragments: readonly string[]): void {
  for (const fragment of fragments) assert.ok(text.includes(fragment), `"${text}" lacks "${fragment}"`);
}

function layouts(counts: Partial<Record<BoxLayout, number>>): BoxLayout[] {
  return (Object.entries(counts) as Array<[BoxLayout, number]>).flatMap(([layout, n]) =>
    Array.from({ length: n }, () => layout),
  );
}

describe('voxelfeed serve and index on skipped series and boxes that miss their masks', () => {
  let root = '';
  /** 24 series, 21 with boxes written (x, y, z): their centres fall outside the volume. */
  let mostSkipped = '';
  /** 24 series, 1 with boxes written (x, y, z). */
  let oneSkipped = '';
  /** 4 series: 2 with boxes (z, x, y), 1 in millimetres, 1 right. */
  let wrongBoxes = '';
  let wrongUids: string[] = [];
  let rightBoxes = '';

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-catalog-checks-'));
    mostSkipped = path.join(root, 'most-skipped');
    oneSkipped = path.join(root, 'one-skipped');
    wrongBoxes = path.join(root, 'wrong-boxes');
    rightBoxes = path.join(root, 'right-boxes');
    [, , , wrongUids] = await Promise.all([
      writeBoxLayoutDataset(mostSkipped, layouts({ xyz: 21, voxels: 3 })),
      writeBoxLayoutDataset(oneSkipped, layouts({ xyz: 1, voxels: 23 })),
      writeBoxLayoutDataset(rightBoxes, layouts({ voxels: 3 })),
      writeBoxLayoutDataset(wrongBoxes, ['zxy', 'voxels', 'millimetres', 'zxy']),
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
        assert.equal(await servedSeries(server), 3);
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
        assert.equal(await servedSeries(server), 23);
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

  describe('index --check', { concurrency: true }, () => {
    it('names each series whose boxes miss its mask with the cause, and exits 1', async () => {
      const [zxy, right, mm, zxyToo] = wrongUids;
      const { code, stdout, stderr } = await voxelfeed(['index', '--check', wrongBoxes]);
      assert.equal(code, 1, stderr);
      assert.match(stdout, /^skipped +0$/m);
      assert.match(stdout, /^box check +4 series with boxes: 3 miss their mask, 0 unreadable$/m);
      const listed = (uid: string) =>
        stdout.split('\n').find((line) => line.startsWith(`  ${uid}: `)) ?? `(${uid} not listed)`;
      for (const uid of [zxy!, zxyToo!]) {
        assertMentions(listed(uid), ['2 of 2 box centres', 'look like (z, x, y), expected (z, y, x)']);
      }
      assertMentions(listed(mm!), ['look like millimetres, expected voxels']);
      assert.ok(!stdout.includes(`  ${right}: `), stdout);
      const lines = plainLines(stderr);
      assert.equal(lines.length, 1, stderr);
      assertMentions(lines[0]!, ['voxelfeed index: box centres miss the mask in 3 of 4 series', zxy!]);
    });

    it('without --check reads no mask and passes the same data set', async () => {
      const { code, stdout, stderr } = await voxelfeed(['index', wrongBoxes]);
      assert.equal(code, 0, stderr);
      assert.ok(!stdout.includes('box check'), stdout);
      assert.equal(plainLines(stderr).length, 0, stderr);
    });

    it('raises nothing on right boxes, and --json carries the check', async () => {
      const text = await voxelfeed(['index', '--check', rightBoxes]);
      assert.equal(text.code, 0, text.stderr);
      assert.equal(text.stderr, '');
      assert.match(text.stdout, /^box check +3 series with boxes: 0 miss their mask, 0 unreadable$/m);
      const json = await voxelfeed(['index', '--check', '--json', wrongBoxes]);
      assert.equal(json.code, 1);
      const summary = JSON.parse(json.stdout);
      assert.equal(summary.box_check.checked, 4);
      assert.deepEqual(
        summary.box_check.mismatched.map((entry: { uid: string }) => entry.uid),
        [wrongUids[0], wrongUids[2], wrongUids[3]],
      );
      assert.deepEqual(summary.box_check.mismatched[0].mismatch.cause.order, [0, 2, 1]);
      assert.equal(summary.skipped_share, 0);
      assert.equal(summary.max_skipped, 0.1);
    });

    it('--crop warns about nodules larger than the crop on an axis, without failing', async () => {
      const small = await voxelfeed(['index', rightBoxes, '--crop', '4,16,16']);
      assert.equal(small.code, 0, small.stderr);
      assert.match(small.stdout, /^crop +4x16x16: 6 of 6 nodules larger on an axis$/m);
      const lines = plainLines(small.stderr);
      assert.equal(lines.length, 1, small.stderr);
      assertMentions(lines[0]!, [
        'voxelfeed index: warning: 6 of 6 nodules are larger than the crop 4x16x16',
        'diameter 5 > 4 on axis 0',
      ]);
      const fits = await voxelfeed(['index', rightBoxes, '--crop', '8,16,16']);
      assert.equal(fits.code, 0);
      assert.equal(fits.stderr, '');
      const bad = await voxelfeed(['index', rightBoxes, '--crop', '8,16']);
      assert.equal(bad.code, 2);
      assertMentions(bad.stderr, ['--crop 8,16: give three sizes Z,Y,X separated by commas']);
    });
  });
});
