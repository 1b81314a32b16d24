import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createRng } from '../../../server/sampling/rng.js';
import { uidHashFraction, uidHashWords } from '../../../server/sampling/uid-hash.js';

const run = promisify(execFile);
const MASK = (1n << 64n) - 1n;

/** The specification, straight in BigInt: FNV-1a 64 over UTF-8, then SplitMix64's finaliser. */
function referenceHash(uid: string): bigint {
  let h = 0xcbf2_9ce4_8422_2325n;
  for (const byte of new TextEncoder().encode(uid)) h = ((h ^ BigInt(byte)) * 0x100_0000_01b3n) & MASK;
  h = ((h ^ (h >> 30n)) * 0xbf58_476d_1ce4_e5b9n) & MASK;
  h = ((h ^ (h >> 27n)) * 0x94d0_49bb_1331_11ebn) & MASK;
  return h ^ (h >> 31n);
}

/** The same hash as a Python client computes it: the lines its documentation gives. */
const PYTHON = `
import json, sys
M = 2**64 - 1
def uid_hash(uid):
    h = 0xcbf29ce484222325
    for b in uid.encode('utf-8'):
        h = ((h ^ b) * 0x100000001b3) & M
    h = ((h ^ (h >> 30)) * 0xbf58476d1ce4e5b9) & M
    h = ((h ^ (h >> 27)) * 0x94d049bb133111eb) & M
    return h ^ (h >> 31)
print(json.dumps([[format(uid_hash(u), '016x'), (uid_hash(u) >> 11) / 2**53] for u in json.load(sys.stdin)]))
`;

function hex(uid: string): string {
  const [hi, lo] = uidHashWords(uid);
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/** Uids of every kind the hash meets, deterministic: ids, names, LUNA16 uids, non-ASCII, empty, long. */
function sampleUids(): string[] {
  const rng = createRng([0x0d15_ea5e]);
  const uids = ['', '0', 'a', 'case_000', 'é', '肺結節', '😀', 'x'.repeat(1000)];
  for (let i = 0; i < 300; i++) {
    uids.push(String(i), `case_${String(i).padStart(3, '0')}`);
    let tail = String(rng.nextInt(1, 9));
    for (let d = 0; d < 29; d++) tail += String(rng.nextInt(0, 9));
    uids.push(`1.3.6.1.4.1.14519.5.2.1.6279.6001.${tail}`);
    uids.push(
      String.fromCodePoint(
        ...Array.from({ length: rng.nextInt(1, 12) }, () => scalarValue(rng.nextInt(1, 0x10_f7ff))),
      ),
    );
  }
  return uids;
}

/** Maps 1..0x10f7ff onto the Unicode scalar values, skipping the surrogates (no uid can hold a lone one). */
function scalarValue(index: number): number {
  return index < 0xd800 ? index : index + 0x800;
}

describe('uidHashWords', () => {
  // Golden values: the holdout split is part of the determinism contract, so the hash must never drift.
  const golden: [uid: string, hash: string, fraction: number][] = [
    ['', 'f52a15e9a9b5e89b', 0.9576734252420561],
    ['0', '8bd66332999b4192', 0.5462400435004442],
    ['case_000', '4e56f8146560e31d', 0.3060145425600953],
    [
      '1.3.6.1.4.1.14519.5.2.1.6279.6001.100225287222365663678666836860',
      'f56a5fa6f3e8e3de',
      0.9586543829536001,
    ],
  ];
  for (const [uid, hash, fraction] of golden) {
    it(`hashes ${JSON.stringify(uid)} to ${hash}, fraction ${fraction}`, () => {
      assert.equal(hex(uid), hash);
      assert.equal(uidHashFraction(uid), fraction);
    });
  }

  it('equals the BigInt specification on every kind of uid', () => {
    for (const uid of sampleUids()) {
      assert.equal(hex(uid), referenceHash(uid).toString(16).padStart(16, '0'), JSON.stringify(uid));
      assert.equal(uidHashFraction(uid), Number(referenceHash(uid) >> 11n) / 2 ** 53, JSON.stringify(uid));
    }
  });

  it('equals what the documented Python lines compute, hash and fraction', async () => {
    const uids = sampleUids();
    const child = run('python3', ['-c', PYTHON], { maxBuffer: 16 << 20 });
    child.child.stdin?.end(JSON.stringify(uids));
    const python = JSON.parse((await child).stdout) as [string, number][];
    assert.equal(python.length, uids.length);
    uids.forEach((uid, i) => {
      assert.deepEqual([hex(uid), uidHashFraction(uid)], python[i], JSON.stringify(uid));
    });
  });

  it('stays in [0, 1) and changes about half of its bits when the last character of a uid changes', () => {
    let flipped = 0;
    let pairs = 0;
    for (let i = 0; i < 2000; i++) {
      const fraction = uidHashFraction(String(i));
      assert.ok(fraction >= 0 && fraction < 1, `${i}: ${fraction}`);
      const [hiA, loA] = uidHashWords(`case_${i}0`);
      const [hiB, loB] = uidHashWords(`case_${i}1`);
      flipped += popcount(hiA ^ hiB) + popcount(loA ^ loB);
      pairs += 1;
    }
    // 2000 pairs of 64 bits: 64,000 expected flips, standard deviation about 179.
    const mean = flipped / pairs;
    assert.ok(Math.abs(mean - 32) < 0.5, `mean flipped bits ${mean}`);
  });
});

function popcount(word: number): number {
  let v = word >>> 0;
  let count = 0;
  while (v !== 0) {
    v &= v - 1;
    count += 1;
  }
  return count;
}
