import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { INSTALL_TEST_TOOLS, missingToolHint } from './debian-test-tools.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

function enoent(command: string): Error {
  return Object.assign(new Error(`spawn ${command} ENOENT`), { code: 'ENOENT' });
}

describe('missingToolHint', () => {
  it('names the Debian package of a test tool that is not installed, and the command that installs them', () => {
    assert.equal(
      missingToolHint('teem-unu', enoent('teem-unu'), ''),
      `teem-unu is not installed: the Debian package teem-apps provides it; install the test tools with: ${INSTALL_TEST_TOOLS}`,
    );
    assert.match(missingToolHint('/usr/bin/promtool', enoent('promtool'), '') ?? '', /package prometheus /);
  });

  it('names the package of a Python module the python3 scripts cannot import', () => {
    const stderr =
      "Traceback (most recent call last):\n  File ...\nModuleNotFoundError: No module named 'numpy'\n";
    assert.equal(
      missingToolHint('/usr/bin/python3', new Error('Command failed'), stderr),
      `python3 cannot import numpy: the Debian package python3-numpy provides it; install the test tools with: ${INSTALL_TEST_TOOLS}`,
    );
    assert.match(
      missingToolHint('python3', new Error('failed'), "No module named 'google.protobuf'") ?? '',
      /python3-protobuf/,
    );
  });

  it('leaves other failures alone', () => {
    assert.equal(missingToolHint('teem-unu', new Error('Command failed: teem-unu about'), 'unu: bad'), null);
    assert.equal(missingToolHint('kubectl', enoent('kubectl'), ''), null);
    assert.equal(missingToolHint('python3', new Error('failed'), "No module named 'yaml'"), null);
  });
});

describe('the integration and system tiers, with a test tool missing', () => {
  let emptyPath = '';
  before(async () => {
    emptyPath = await mkdtemp(path.join(tmpdir(), 'voxelfeed-no-tools-'));
  });
  after(async () => {
    await rm(emptyPath, { recursive: true, force: true });
  });

  it('fail with the package and the install command, however the test ran the tool', async () => {
    const program = `
      import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
      import { once } from 'node:events';
      import { promisify } from 'node:util';
      const attempts = [
        () => promisify(execFile)('teem-unu', ['about']),
        () => new Promise((resolve, reject) => execFile('protoc', ['--version'], (error) => error ? reject(error) : resolve())),
        () => once(spawn('promtool', ['--version']), 'exit'),
        async () => execFileSync('openssl', ['version'], { stdio: 'pipe' }),
        async () => { throw spawnSync('ip', ['link']).error; },
      ];
      for (const attempt of attempts) {
        try { await attempt(); console.log('ran'); } catch (error) { console.log(error.message.split('\\n').at(-1)); }
      }
    `;
    const args = [
      '--import',
      'tsx',
      '--import',
      './test/support/missing-tool-hint.ts',
      '--input-type=module',
    ];
    const { stdout } = await run(process.execPath, [...args, '-e', program], {
      cwd: root,
      env: { ...process.env, PATH: emptyPath },
      timeout: 60_000,
    });
    const install = `install the test tools with: ${INSTALL_TEST_TOOLS}`;
    assert.deepEqual(stdout.trim().split('\n'), [
      `teem-unu is not installed: the Debian package teem-apps provides it; ${install}`,
      `protoc is not installed: the Debian package protobuf-compiler provides it; ${install}`,
      `promtool is not installed: the Debian package prometheus provides it; ${install}`,
      `openssl is not installed: the Debian package openssl provides it; ${install}`,
      `ip is not installed: the Debian package iproute2 provides it; ${install}`,
    ]);
  });
});
