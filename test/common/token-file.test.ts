import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseTokenFile, readTokenFile, tokenFingerprint } from '../../common/token-file.js';
import { isVoxelfeedError } from '../../common/voxelfeed-error.js';

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(isVoxelfeedError(error), String(error));
    assert.equal(error.code, 'INVALID_ARGUMENT');
    return error.message;
  }
  return assert.fail('expected an INVALID_ARGUMENT');
}

describe('parseTokenFile', () => {
  it('takes one token per line, trimmed, skipping blank lines and # comments, in file order', () => {
    const text = '# rotation: new first\r\n\r\n  new-token-2  \n\t# old one below\nold+token/1==\n\n';
    assert.deepEqual(parseTokenFile(text, '--auth-token-file t'), ['new-token-2', 'old+token/1==']);
  });

  it('keeps a # inside a token: only a line that starts with # is a comment', () => {
    assert.deepEqual(parseTokenFile('abc#def\n', 'f'), ['abc#def']);
  });

  it('refuses a file with no token, naming the file and how to make one', () => {
    const message = refusal(() => parseTokenFile('# nothing yet\n\n   \n', '--auth-token-file /s/tokens'));
    assert.match(message, /^--auth-token-file \/s\/tokens: the file holds no token/);
    assert.match(message, /openssl rand -hex 32/);
  });

  it('refuses a line with a space or a non-ASCII character by its number, without quoting it', () => {
    const secret = 'half of a secret';
    const message = refusal(() => parseTokenFile(`ok-token\n${secret}\ntoken-é\n`, 'f'));
    assert.match(
      message,
      /line 2 holds a space.*line 3 holds a space or a character outside printable ASCII/,
    );
    assert.ok(!message.includes(secret) && !message.includes('token-é'), message);
  });
});

describe('tokenFingerprint', () => {
  it('is the first 8 hex digits of the SHA-256 of the token, as sha256sum prints it', () => {
    for (const token of ['a', 'voxelfeed-Ö', 'x'.repeat(300)]) {
      const expected = execFileSync('sha256sum', { input: Buffer.from(token, 'utf8') })
        .toString()
        .slice(0, 8);
      assert.equal(tokenFingerprint(token), expected);
    }
  });
});

describe('readTokenFile', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-token-file-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the tokens of a file', async () => {
    await writeFile(path.join(dir, 'tokens'), 'one\ntwo\n');
    assert.deepEqual(await readTokenFile(path.join(dir, 'tokens'), '--auth-token-file'), ['one', 'two']);
  });

  it('names the option and the file when the file is missing or is a folder', async () => {
    const missing = path.join(dir, 'nope');
    await assert.rejects(readTokenFile(missing, '--auth-token-file'), (error: Error) => {
      assert.ok(isVoxelfeedError(error) && error.code === 'INVALID_ARGUMENT');
      assert.equal(
        error.message,
        `--auth-token-file ${missing}: cannot read it: no such file; check the path (relative paths start at the working folder)`,
      );
      return true;
    });
    await assert.rejects(readTokenFile(dir, '--auth-token-file'), /cannot read it: it is a folder/);
  });
});
