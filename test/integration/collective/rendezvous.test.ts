import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { ProcessGroupTls } from '../../../trainer/collective/process-group.js';
import { closeAll, fulfilled, startGroups } from './group-fixture.js';

const run = promisify(execFile);

function reasonOf(result: PromiseSettledResult<unknown>): string {
  assert.equal(result.status, 'rejected', 'the start must fail');
  return String((result as PromiseRejectedResult).reason);
}

/** A CA and one certificate for every rank (127.0.0.1, server and client use), made by openssl. */
async function makeRankTls(dir: string): Promise<ProcessGroupTls> {
  const file = (name: string) => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run(
    'openssl',
    ['req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.crt')].concat(
      ['-days', '2', '-subj', '/CN=ranks CA', '-addext', 'basicConstraints=critical,CA:TRUE'],
      ['-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    ),
  );
  await run('openssl', [
    'req',
    '-new',
    ...ec,
    '-keyout',
    file('rank.key'),
    '-out',
    file('rank.csr'),
    '-subj',
    '/CN=rank',
  ]);
  await writeFile(
    file('rank.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:voxelfeed-train\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n',
  );
  await run(
    'openssl',
    ['x509', '-req', '-in', file('rank.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key')].concat([
      '-set_serial',
      '0x1234',
      '-days',
      '2',
      '-extfile',
      file('rank.ext'),
      '-out',
      file('rank.crt'),
    ]),
  );
  return {
    ca: await readFile(file('ca.crt')),
    cert: await readFile(file('rank.crt')),
    key: await readFile(file('rank.key')),
  };
}

async function allReduceWorks(
  worldSize: number,
  results: PromiseSettledResult<import('../../../trainer/collective/process-group.js').ProcessGroup>[],
) {
  const groups = fulfilled(results);
  try {
    const buffers = groups.map((group) => Float32Array.of(group.rank, 2 * group.rank));
    await Promise.all(groups.map((group, rank) => group.allReduceMean(buffers[rank]!, 0)));
    const mean = (worldSize - 1) / 2;
    for (const buffer of buffers) assert.deepEqual([...buffer], [mean, 2 * mean]);
  } finally {
    await closeAll(groups);
  }
}

describe('the rendezvous', { timeout: 120_000 }, () => {
  it('names the ranks that did not arrive within the start-up timeout, on rank 0 and on the ranks that came', async () => {
    const results = await startGroups(4, (rank) => ({
      startTimeoutMs: rank === 0 ? 1500 : 20_000,
      ...(rank === 1 || rank === 3 ? { masterPort: 1 } : {}),
    }));
    // Ranks 1 and 3 look for rank 0 elsewhere (port 1): they never arrive.
    assert.match(reasonOf(results[0]!), /ranks 1, 3 of 4 did not join job "test-job"/);
    assert.match(reasonOf(results[2]!), /ranks 1, 3 of 4 did not join/);
  });

  it('refuses a rank whose options fingerprint differs, on both sides', async () => {
    const results = await startGroups(2, (rank) =>
      rank === 1 ? { fingerprint: 'model=paper batch=2 seed=7' } : {},
    );
    for (const result of results)
      assert.match(reasonOf(result), /fingerprint model=paper.*rank 0 model=tiny.*same options/);
  });

  it('refuses a rank of another job, and rank 0 says so when its timeout ends', async () => {
    const results = await startGroups(2, (rank) =>
      rank === 1 ? { job: 'other-job' } : { startTimeoutMs: 2000 },
    );
    assert.match(reasonOf(results[1]!), /hosts job "test-job", not "other-job"/);
    assert.match(reasonOf(results[0]!), /rank 1 of 2 did not join.*refused: rank 1 .* of job "other-job"/);
  });

  it('refuses a rank taken twice', async () => {
    const results = await startGroups(3, (rank) => (rank === 2 ? { rank: 1 } : { startTimeoutMs: 3000 }));
    const reasons = results.map(reasonOf);
    assert.ok(
      reasons.some((reason) => /rank 1 has already joined/.test(reason)),
      reasons.join('\n'),
    );
  });
});

describe('TLS and tokens between ranks', { timeout: 120_000 }, () => {
  let dir: string;
  let tls: ProcessGroupTls;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-collective-pki-'));
    tls = await makeRankTls(dir);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('all-reduces over mutual TLS with a token', async () => {
    await allReduceWorks(3, await startGroups(3, () => ({ tls, token: 'secret-1' })));
  });

  it('all-reduces over server-only TLS, checking the certificate name given', async () => {
    await allReduceWorks(
      2,
      await startGroups(2, () => ({
        tls: { ...tls, requireClientCertificate: false, serverName: 'voxelfeed-train' },
      })),
    );
  });

  it('refuses a rank without the token, and one with another token', async () => {
    for (const token of [undefined, 'wrong']) {
      const results = await startGroups(2, (rank) =>
        rank === 0 ? { token: 'secret-1', startTimeoutMs: 2000 } : token === undefined ? {} : { token },
      );
      assert.match(reasonOf(results[1]!), /refused rank 1: .*bearer token.*same --auth-token-file/);
      assert.match(reasonOf(results[0]!), /rank 1 of 2 did not join/);
    }
  });
});
