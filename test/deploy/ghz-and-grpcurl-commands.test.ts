import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findOnPath } from '../../bench/load/run-ghz.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const run = promisify(execFile);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Seconds each ghz run of a config file lasts here, instead of the files' 60 s or a command's `-z 5m`. */
const GHZ_TEST_DURATION = '2s';

/** The shell commands of the ```sh blocks of a Markdown file that start with `tool`, continuation lines joined. */
async function commandsOf(markdown: string, tool: string): Promise<string[]> {
  const text = await readFile(new URL(markdown, new URL('../../', import.meta.url)), 'utf8');
  const commands: string[] = [];
  for (const [, block] of text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    const lines = block!.replace(/\s*\\\n\s*/g, ' ').split('\n');
    commands.push(...lines.map((line) => line.trim()).filter((line) => line.startsWith(`${tool} `)));
  }
  return commands;
}

/** The command aimed at `address` instead of the documented host (127.0.0.1:50051 or another host's). */
function aimedAt(command: string, address: string): string {
  return command.replace(/(?<=\s)[\w.-]+:50051(?=\s|$)/g, address);
}

/**
 * A ghz command as this test runs it: aimed at the test server (a command that relies on its config file's
 * `host` gets the address appended, as ghz takes it), its report as JSON (`-O json`, whose status code
 * distribution says whether the calls succeeded: ghz exits 0 either way), and short: a time limit of its own
 * (`-z 5m`) or of its config file (60 s) becomes GHZ_TEST_DURATION. Counted runs (`-n`) keep their count.
 */
function ghzAsTested(command: string, address: string): string {
  let out = aimedAt(command, address).replace(/ -z (?!0(?:\s|$))\S+/, ` -z ${GHZ_TEST_DURATION}`);
  if (out.includes('--config') && !/ -[nz] /.test(out)) {
    out = out.replace(/^ghz /, `ghz -z ${GHZ_TEST_DURATION} `);
  }
  if (!out.includes(address)) out = `${out} ${address}`;
  return out.replace(/^ghz /, 'ghz -O json ');
}

const GHZ_COMMANDS = await commandsOf('deploy/ghz/README.md', 'ghz');
const GRPCURL_COMMANDS = await commandsOf('README.md', 'grpcurl');
const ghz = await findOnPath('ghz', process.env);
const grpcurl = await findOnPath('grpcurl', process.env);

describe('the ghz and grpcurl commands of the READMEs, against a real server', () => {
  let dataset: TempDataset;
  let server: TestServer;

  before(async () => {
    // Served as "phantom", the data set the ghz configs and commands name.
    dataset = await createPhantomDataset({ series: 3, shape: [24, 48, 48] });
    server = await startTestServer({ data: dataset.dir });
  });

  after(async () => {
    await server?.close();
    await dataset?.cleanup();
  });

  it('finds the commands to run and aims each at the test server, ghz runs shortened', () => {
    assert.ok(GHZ_COMMANDS.length >= 5, GHZ_COMMANDS.join('\n'));
    assert.ok(GRPCURL_COMMANDS.length >= 2, GRPCURL_COMMANDS.join('\n'));
    const address = '127.0.0.1:1';
    for (const command of GHZ_COMMANDS) {
      const tested = ghzAsTested(command, address);
      assert.ok(tested.endsWith(` ${address}`) && !tested.includes(':50051'), tested);
      assert.ok(/ -n \d+ /.test(tested) || / -z 2s /.test(tested) || !tested.includes('--config'), tested);
    }
    for (const command of GRPCURL_COMMANDS) {
      const tested = aimedAt(command, address);
      assert.ok(tested.includes(` ${address}`) && !tested.includes(':50051'), tested);
    }
  });

  for (const command of GHZ_COMMANDS) {
    it(`runs ${command}`, {
      skip: ghz === null ? 'ghz is not on PATH (https://ghz.sh/docs/install)' : false,
      timeout: 120_000,
    }, async () => {
      const tested = ghzAsTested(command, server.address);
      const { stdout } = await run('bash', ['-c', tested], {
        cwd: ROOT,
        timeout: 90_000,
        maxBuffer: 64 << 20,
      });
      const report = JSON.parse(stdout) as { count: number; statusCodeDistribution?: Record<string, number> };
      assert.ok(report.count > 0, `${tested}: no calls`);
      // stream-call-count ends each stream by cancelling it: ghz lists those as Canceled.
      const allowed = new Set(command.includes('first-n') ? ['OK', 'Canceled'] : ['OK']);
      const codes = Object.keys(report.statusCodeDistribution ?? {});
      assert.deepEqual(
        codes.filter((code) => !allowed.has(code)),
        [],
        `${tested}: ${JSON.stringify(report.statusCodeDistribution)}`,
      );
    });
  }

  for (const command of GRPCURL_COMMANDS) {
    it(`runs ${command}`, {
      skip: grpcurl === null ? 'grpcurl is not on PATH (https://github.com/fullstorydev/grpcurl)' : false,
      timeout: 60_000,
    }, async () => {
      const tested = aimedAt(command, server.address);
      const { stdout } = await run('bash', ['-c', tested], {
        cwd: ROOT,
        timeout: 30_000,
        maxBuffer: 64 << 20,
      });
      if (/ list$/.test(command)) {
        for (const service of ['voxelfeed.v1.VoxelFeed', 'grpc.health.v1.Health']) {
          assert.ok(stdout.split('\n').includes(service), `${service} not listed:\n${stdout}`);
        }
      } else {
        // Replies as protobuf JSON: a batch with its samples, tiles with their origins, or the health status.
        assert.match(stdout, /"samples"|"origins"|"status": "SERVING"/, stdout.slice(0, 2000));
      }
    });
  }
});
