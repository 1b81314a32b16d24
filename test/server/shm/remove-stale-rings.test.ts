import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { removeStaleRings } from '../../../server/shm/remove-stale-rings.js';

describe('removeStaleRings', () => {
  const directory = mkdtempSync(path.join(tmpdir(), 'voxelfeed-stale-'));
  after(() => rmSync(directory, { recursive: true, force: true }));

  it('removes the ring files of processes that are gone and keeps every other file', async () => {
    const names = [
      'voxelfeed-ring-111-aaaa-0011',
      'voxelfeed-ring-222-bbbb-0022',
      'voxelfeed-ring-333-cccc-0033',
      'voxelfeed-probe-0123456789abcdef0123456789abcdef',
      'other-file',
    ];
    for (const name of names) writeFileSync(path.join(directory, name), 'x');
    const removed = await removeStaleRings(directory, (pid) => pid === 222);
    assert.deepEqual(removed.map((file) => path.basename(file)).sort(), [
      'voxelfeed-ring-111-aaaa-0011',
      'voxelfeed-ring-333-cccc-0033',
    ]);
    assert.deepEqual(readdirSync(directory).sort(), [
      'other-file',
      'voxelfeed-probe-0123456789abcdef0123456789abcdef',
      'voxelfeed-ring-222-bbbb-0022',
    ]);
  });

  it('keeps the files of this process, which is running', async () => {
    const mine = `voxelfeed-ring-${process.pid}-dddd-0044`;
    writeFileSync(path.join(directory, mine), 'x');
    await removeStaleRings(directory);
    assert.ok(readdirSync(directory).includes(mine));
  });

  it('answers nothing for a directory that does not exist', async () => {
    assert.deepEqual(await removeStaleRings(path.join(directory, 'missing')), []);
  });
});
