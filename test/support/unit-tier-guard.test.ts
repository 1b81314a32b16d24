import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `code` (an ES module) in a fresh node with the unit tier's preload; its stdout and stderr. */
async function underGuard(code: string): Promise<{ code: number; output: string }> {
  const args = ['--import', 'tsx', '--import', './test/support/unit-tier-guard.ts', '--input-type=module'];
  try {
    const program = `import { once } from 'node:events';\n${code}`;
    const { stdout, stderr } = await run(process.execPath, [...args, '-e', program], {
      cwd: root,
      timeout: 60_000,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, output: stdout + stderr };
  }
}

/** Prints the message of what `attempt` throws, or `allowed`; awaits the exit of a child it returns. */
function report(attempt: string): string {
  return `
    try {
      const result = await (async () => { ${attempt} })();
      if (result && typeof result.once === 'function') await once(result, 'exit');
      console.log('allowed');
    } catch (error) {
      console.log(String(error));
    }
  `;
}

describe('the unit tier guard', () => {
  it('refuses a server on 127.0.0.1, naming the address and where to move the test', async () => {
    const { output } = await underGuard(`
      import net from 'node:net';
      ${report("const server = net.createServer(); server.listen(0, '127.0.0.1', () => server.close()); return null;")}
    `);
    assert.match(output, /UnitTierViolation: the unit tier refused to listen on 0/);
    assert.match(output, /give its file the integration tier in scripts\/test-tiers\.ts/);
  });

  it('refuses a client connection, through node:http2 as well as node:net', async () => {
    const { output } = await underGuard(`
      import net from 'node:net';
      import http2 from 'node:http2';
      ${report("net.connect(50051, '127.0.0.1').on('error', () => {}).destroy(); return null;")}
      ${report("http2.connect('http://127.0.0.1:50051').on('error', () => {}).close(); return null;")}
    `);
    assert.equal(output.match(/the unit tier refused to connect to/g)?.length, 2, output);
  });

  it('refuses a UDP socket', async () => {
    const { output } = await underGuard(`
      import dgram from 'node:dgram';
      ${report("const udp = dgram.createSocket('udp4'); udp.bind(0, '127.0.0.1', () => udp.close()); return null;")}
    `);
    assert.match(output, /the unit tier refused to bind a UDP socket to 0/);
  });

  it('refuses every program but node, however a test starts it', async () => {
    const { output } = await underGuard(`
      import childProcess, { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
      import { promisify } from 'node:util';
      ${report("return spawn('teem-unu', ['about']);")}
      ${report("execFileSync('protoc', ['--version']); return null;")}
      ${report("spawnSync('/usr/bin/python3', ['-c', 'import numpy']); return null;")}
      ${report("await promisify(execFile)('openssl', ['version']); return null;")}
      ${report("childProcess.execSync('ip link'); return null;")}
      ${report("await promisify(execFile)(process.execPath, ['-e', '1']); return null;")}
    `);
    const lines = output.trim().split('\n');
    assert.deepEqual(
      lines.map((line) => line.replace(/: unit tests .*/, '')),
      [
        'UnitTierViolation: the unit tier refused to run teem-unu',
        'UnitTierViolation: the unit tier refused to run protoc',
        'UnitTierViolation: the unit tier refused to run /usr/bin/python3',
        'UnitTierViolation: the unit tier refused to run openssl',
        'UnitTierViolation: the unit tier refused to run the shell command ip link',
        'allowed',
      ],
      output,
    );
  });
});
