import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { peerHost, StreamAdmission } from '../../../server/batches/stream-admission.js';
import { isVoxelfeedError } from '../../../server/errors.js';
import { createRng } from '../../../server/sampling/rng.js';

/** The RESOURCE_EXHAUSTED message `admit` throws, after checking the code. */
function refusal(admission: StreamAdmission, peer: string): string {
  try {
    admission.admit(peer);
  } catch (error) {
    assert.ok(isVoxelfeedError(error), String(error));
    assert.equal(error.code, 'RESOURCE_EXHAUSTED');
    return error.message;
  }
  return assert.fail(`expected a stream from ${peer} to be refused`);
}

function assertMentions(text: string, fragments: readonly string[]): void {
  for (const fragment of fragments) assert.ok(text.includes(fragment), `"${text}" lacks "${fragment}"`);
}

describe('peerHost', () => {
  const cases: Array<[string, string]> = [
    ['10.0.0.5:43122', '10.0.0.5'],
    ['127.0.0.1:1', '127.0.0.1'],
    ['::1:43122', '::1'],
    ['[::1]:43122', '::1'],
    ['2001:db8::7:50051', '2001:db8::7'],
    ['[2001:db8::7]:50051', '2001:db8::7'],
    ['::ffff:10.0.0.5:43122', '10.0.0.5'],
    ['::FFFF:10.0.0.5:7', '10.0.0.5'],
    ['unknown', 'unknown'],
  ];
  for (const [peer, host] of cases) {
    it(`reads ${peer} as host ${host}`, () => {
      assert.equal(peerHost(peer), host);
    });
  }
});

describe('StreamAdmission', () => {
  it('refuses a stream over the total limit, naming the count, the limit and the flag', () => {
    const admission = new StreamAdmission({ maxStreams: 2, maxStreamsPerPeer: 5 });
    admission.admit('10.0.0.1:1000');
    admission.admit('10.0.0.2:1000');
    assertMentions(refusal(admission, '10.0.0.3:1000'), [
      'has 2 open streams',
      '--max-streams 2',
      'raise --max-streams',
      'VOXELFEED_MAX_STREAMS',
    ]);
    assert.equal(admission.openStreams, 2);
    assert.equal(admission.openStreamsOf('10.0.0.3'), 0, 'a refused stream takes no slot');
  });

  it('refuses a host over its own limit, whatever its ports, while other hosts still get slots', () => {
    const admission = new StreamAdmission({ maxStreams: 10, maxStreamsPerPeer: 2 });
    admission.admit('10.0.0.1:1000');
    admission.admit('10.0.0.1:2000');
    const message = refusal(admission, '10.0.0.1:3000');
    assertMentions(message, [
      'client 10.0.0.1 has 2 open streams',
      '--max-streams-per-peer 2',
      'raise --max-streams-per-peer',
      'VOXELFEED_MAX_STREAMS_PER_PEER',
    ]);
    assert.ok(!message.includes('3000'), 'the message names the host, not one connection');
    admission.admit('10.0.0.2:1000');
    assert.equal(admission.openStreamsOf('10.0.0.1'), 2);
    assert.equal(admission.openStreamsOf('10.0.0.2'), 1);
    assert.equal(admission.openStreams, 3);
  });

  it('frees exactly one slot per stream, however often its release is called', () => {
    const admission = new StreamAdmission({ maxStreams: 1, maxStreamsPerPeer: 1 });
    const release = admission.admit('10.0.0.1:1000');
    refusal(admission, '10.0.0.1:1001');
    release();
    release();
    assert.equal(admission.openStreams, 0);
    const next = admission.admit('10.0.0.1:1002');
    release();
    assert.equal(admission.openStreams, 1, 'a stale release does not free the next stream');
    refusal(admission, '10.0.0.2:1000');
    next();
    assert.equal(admission.openStreams, 0);
  });

  it('keeps the counts equal to the streams open, under random admits and releases', () => {
    for (let seed = 0; seed < 20; seed++) {
      const rng = createRng([seed]);
      const maxStreams = rng.nextInt(1, 8);
      const maxStreamsPerPeer = rng.nextInt(1, 4);
      const admission = new StreamAdmission({ maxStreams, maxStreamsPerPeer });
      const open: Array<{ host: string; release: () => void }> = [];
      for (let step = 0; step < 200; step++) {
        if (open.length > 0 && rng.nextFloat() < 0.45) {
          const [closed] = open.splice(rng.nextInt(0, open.length - 1), 1);
          closed!.release();
        } else {
          const host = `10.0.0.${rng.nextInt(0, 2)}`;
          const ofHost = open.filter((stream) => stream.host === host).length;
          const fits = open.length < maxStreams && ofHost < maxStreamsPerPeer;
          if (fits) open.push({ host, release: admission.admit(`${host}:${step + 1}`) });
          else refusal(admission, `${host}:${step + 1}`);
        }
        assert.equal(admission.openStreams, open.length, `seed ${seed} step ${step}`);
        for (const host of ['10.0.0.0', '10.0.0.1', '10.0.0.2']) {
          const expected = open.filter((stream) => stream.host === host).length;
          assert.equal(admission.openStreamsOf(host), expected, `seed ${seed} step ${step} ${host}`);
        }
      }
    }
  });
});
