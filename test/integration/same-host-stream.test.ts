import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Metadata } from '@grpc/grpc-js';
import { createFeedClient } from '../../client/create-feed-client.js';
import type { StreamBatchesInput } from '../../client/feed-requests.js';
import type { SharedMemoryAnswer } from '../../client/shm-batch-call.js';
import { type Batch, SamplingOptions } from '../../gen/voxelfeed/v1/voxelfeed.js';
import { batchFingerprint, referenceFingerprints } from '../support/feed-batch-reference.js';
import { exactEpochRequest } from '../support/feed-requests.js';
import { baseStreamRequest } from '../support/grpc-calls.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { pollUntil } from '../support/poll-until.js';
import { spawnServer } from '../support/spawn-server.js';
import { scrapeMetrics, startTestServer, type TestServer } from '../support/test-server.js';

const STEPS = 6;
const UNFLUSHED = 2;

/** This test's own directory under /dev/shm, so files of other processes there never count. */
function sharedDirectory(): string {
  return mkdtempSync('/dev/shm/voxelfeed-test-');
}

function filesIn(directory: string): string[] {
  return readdirSync(directory).sort();
}

async function fingerprints(
  address: string,
  request: StreamBatchesInput,
  directory: string,
  answers: SharedMemoryAnswer[],
): Promise<string[]> {
  const client = createFeedClient({ address });
  try {
    const seen: string[] = [];
    const stream = client.streamBatches(request, {
      sharedMemory: { directory },
      onSharedMemory: (answer) => answers.push(answer),
    });
    for await (const batch of stream) seen.push(batchFingerprint(batch));
    return seen;
  } finally {
    client.close();
  }
}

describe('the same-host path of StreamBatches on a real server', () => {
  let dataset: TempDataset;
  let server: TestServer;
  let directory: string;

  before(async () => {
    dataset = await createPhantomDataset({ series: 6, shape: [24, 48, 48], seed: 17n });
    server = await startTestServer({ data: dataset.dir, limits: { maxUnflushedBatches: UNFLUSHED } });
    directory = sharedDirectory();
  });

  after(async () => {
    await server?.close();
    await dataset?.cleanup();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  for (const dtype of ['float32', 'uint8'] as const) {
    it(`gives the TypeScript client the normal stream's ${dtype} batches, byte for byte`, async () => {
      const request = exactEpochRequest(dataset, { steps: STEPS, batchSize: 2, seed: 5, dtype });
      const expected = await referenceFingerprints(server.address, request);
      const answers: SharedMemoryAnswer[] = [];
      const actual = await fingerprints(server.address, request, directory, answers);
      assert.deepEqual(answers, [{ used: true, reason: '' }]);
      assert.equal(expected.length, STEPS);
      assert.deepEqual(actual, expected);
      // The probe went once the server answered; the stream's file once its batches were released.
      await pollUntil(async () => (filesIn(directory).length === 0 ? true : undefined), {
        timeoutMs: 10_000,
        describe: () => `an empty ${directory}, holding ${filesIn(directory).join(', ')}`,
      });
    });
  }

  for (const dtype of ['float32', 'uint8'] as const) {
    it(`reads ${dtype} batches into one buffer with reuseBuffers, each one right until the loop asks for the next`, async () => {
      const steps = 12;
      const prefetch = 1;
      const request = exactEpochRequest(dataset, { steps, batchSize: 2, seed: 6, dtype });
      const expected = await referenceFingerprints(server.address, request);
      const client = createFeedClient({ address: server.address, prefetch });
      const seen: string[] = [];
      const buffers: ArrayBufferLike[] = [];
      const answers: SharedMemoryAnswer[] = [];
      try {
        for await (const batch of client.streamBatches(request, {
          sharedMemory: { directory, reuseBuffers: true },
          onSharedMemory: (answer) => answers.push(answer),
        })) {
          // Later batches arrive and are read meanwhile: none may land in this batch's buffer.
          await new Promise((resolve) => setTimeout(resolve, 10));
          seen.push(batchFingerprint(batch));
          buffers.push(batch.image.buffer);
          assert.equal(batch.mask?.buffer, batch.image.buffer, 'image and mask lie in one buffer');
        }
      } finally {
        client.close();
      }
      assert.deepEqual(answers, [{ used: true, reason: '' }]);
      assert.equal(seen.length, steps);
      assert.deepEqual(seen, expected, "every batch was the normal stream's while it was the current one");
      assert.equal(new Set(buffers).size, 1, 'one buffer for every batch');
    });
  }

  it('reads a batch out of shared memory only when the loop takes it, so the server stays at most its unflushed batches ahead', async () => {
    const sent = async () =>
      Number(/^voxelfeed_batches_sent_total (\S+)$/m.exec(await scrapeMetrics(server.running))?.[1]);
    const before = await sent();
    // A prefetch larger than the server's unflushed batches: the small pointer messages would all get through.
    const client = createFeedClient({ address: server.address, prefetch: 6 });
    const request = exactEpochRequest(dataset, { steps: 12, batchSize: 2, seed: 8 });
    let taken = 0;
    try {
      for await (const _ of client.streamBatches(request, { sharedMemory: { directory } })) {
        taken += 1;
        // Control: time enough for the server to write every other batch of the epoch, were they released.
        await new Promise((resolve) => setTimeout(resolve, 800));
        break;
      }
      assert.equal(taken, 1);
      const written = (await sent()) - before;
      // The metric counts a batch once it is ready for the file: the one taken, the file's slots, and one
      // waiting for a slot.
      assert.ok(written <= 2 + UNFLUSHED, `${written} batches ready for 1 taken`);
    } finally {
      client.close();
    }
  });

  it("closes a failed call's file once the batches it queued are read, as the stream goes on at another replica", async () => {
    // Server processes of their own (each file slots for 2 batches by default): the open files of this
    // process are then the client's alone.
    const args = ['--data', dataset.dir, '--log-level', 'warn'];
    const first = await spawnServer(args);
    const second = await spawnServer(args);
    const request = exactEpochRequest(dataset, { steps: 12, batchSize: 2, seed: 10 });
    const expected = await referenceFingerprints(first.address, request);
    /** The ring files this process holds open, by way of /proc. */
    const openRings = () =>
      readdirSync('/proc/self/fd').flatMap((fd) => {
        try {
          const target = readlinkSync(`/proc/self/fd/${fd}`);
          return target.includes('voxelfeed-ring-') ? [target] : [];
        } catch {
          return []; // closed while listed
        }
      });
    const client = createFeedClient({
      addresses: [first.address, second.address],
      prefetch: 1,
      reconnect: { maxAttempts: 5, initialBackoffMs: 10, maxBackoffMs: 50 },
    });
    const seen: string[] = [];
    let killed = false;
    let failedRing = '';
    // The ring files open after each batch from the third after the failure on: by then the failed call's
    // queued batches are read, and its file must be closed.
    const openAfterFailover: string[][] = [];
    try {
      for await (const batch of client.streamBatches(request, { sharedMemory: { directory } })) {
        seen.push(batchFingerprint(batch));
        if (killed && seen.length >= 4) openAfterFailover.push(openRings());
        if (!killed) {
          // The loop holds this batch while the server fills its slots and sends their pointers: one reaches
          // the queue, the other waits in gRPC's buffer. Then the call fails: the server is gone.
          await new Promise((resolve) => setTimeout(resolve, 300));
          // The replica that serves the stream: its pid is in its file's name.
          const serving = [first, second].find((server) =>
            openRings().some((path) => path.includes(`voxelfeed-ring-${server.child.pid}-`)),
          );
          assert.ok(serving !== undefined, `a ring file of either server is open: ${openRings().join(', ')}`);
          failedRing = `voxelfeed-ring-${serving.child.pid}-`;
          await serving.stop('SIGKILL');
          killed = true;
        }
      }
      assert.deepEqual(seen, expected, 'every step once, in order, across the two replicas');
      assert.ok(openAfterFailover.length > 0);
      for (const open of openAfterFailover) {
        const stale = open.filter((path) => path.includes(failedRing));
        assert.deepEqual(stale, [], "the failed call's file is closed");
      }
      assert.deepEqual(openRings(), [], 'no ring file left open once the stream has ended');
    } finally {
      client.close();
      await first.stop('SIGKILL');
      await second.stop('SIGKILL');
    }
  });

  it('resumes at a step with the batches the normal stream sends from there', async () => {
    const request = { ...exactEpochRequest(dataset, { steps: STEPS, batchSize: 2, seed: 9 }), startStep: 3 };
    const expected = await referenceFingerprints(server.address, request);
    const actual = await fingerprints(server.address, request, directory, []);
    assert.equal(actual.length, STEPS - 3);
    assert.match(actual[0] ?? '', / step 3 /);
    assert.deepEqual(actual, expected);
  });

  it('removes the stream file when the client leaves mid-way', async () => {
    const client = createFeedClient({ address: server.address, prefetch: 1 });
    const request = exactEpochRequest(dataset, { steps: STEPS, batchSize: 2, seed: 5 });
    let sawFile = false;
    let read = 0;
    for await (const _ of client.streamBatches(request, { sharedMemory: { directory } })) {
      sawFile ||= filesIn(directory).some((name) => name.startsWith('voxelfeed-ring-'));
      if (++read === 2) break;
    }
    client.close();
    assert.ok(sawFile, 'the stream had its file while it ran');
    await pollUntil(async () => (filesIn(directory).length === 0 ? true : undefined), {
      timeoutMs: 10_000,
      describe: () => `an empty ${directory} after the cancel, holding ${filesIn(directory).join(', ')}`,
    });
  });

  it('streams normally and says why when the probe does not read back', async () => {
    const request = exactEpochRequest(dataset, { steps: STEPS, batchSize: 2, seed: 5 });
    const expected = await referenceFingerprints(server.address, request);
    // A probe the server reads with another token than the request's, and one that does not exist.
    const probePath = path.join(directory, `voxelfeed-probe-${randomBytes(16).toString('hex')}`);
    writeFileSync(probePath, 'not the token');
    const missing = path.join(directory, `voxelfeed-probe-${randomBytes(16).toString('hex')}`);
    for (const [probe, why] of [
      [probePath, /another token/],
      [missing, /cannot read probe .*ENOENT.*different hosts/],
      ['/etc/passwd', /not an absolute path to a file named voxelfeed-probe-/],
    ] as const) {
      const stream = server.client.streamBatches(
        baseStreamRequest({ sharedMemory: { probePath: probe, probeToken: 'abc' }, maxSteps: 2n }),
      );
      const answer = new Promise<string>((resolve) =>
        stream.once('metadata', (metadata: Metadata) =>
          resolve(String(metadata.get('voxelfeed-shared-memory')[0])),
        ),
      );
      const batches: Batch[] = [];
      await new Promise<void>((resolve, reject) => {
        stream.on('data', (batch: Batch) => batches.push(batch));
        stream.on('error', reject);
        stream.on('end', resolve);
      });
      assert.match(await answer, /^refused: /);
      assert.match(await answer, why);
      assert.equal(batches.length, 2);
      assert.ok(batches.every((batch) => batch.sharedMemory === undefined && batch.image.length > 0));
    }
    rmSync(probePath);
    // The TypeScript client falls back the same way: a directory the server sees but whose probe it cannot
    // check stands in for another host here, by way of the raw call above; its own batches stay identical.
    assert.equal(expected.length, STEPS);
  });

  it('streams normally and says why when this host has no such directory', async () => {
    const request = exactEpochRequest(dataset, { steps: STEPS, batchSize: 2, seed: 5 });
    const expected = await referenceFingerprints(server.address, request);
    const answers: SharedMemoryAnswer[] = [];
    const missing = path.join(directory, 'missing');
    assert.deepEqual(await fingerprints(server.address, request, missing, answers), expected);
    assert.deepEqual(answers, [{ used: false, reason: `cannot write a probe in ${missing} (ENOENT)` }]);
  });

  it('writes at most maxUnflushedBatches batches ahead of the releases, and reuses a slot only once released', async () => {
    const probePath = path.join(directory, `voxelfeed-probe-${randomBytes(16).toString('hex')}`);
    const probeToken = randomBytes(16).toString('hex');
    writeFileSync(probePath, probeToken);
    const stream = server.client.streamBatches(
      baseStreamRequest({
        sharedMemory: { probePath, probeToken },
        batchSize: 2,
        cropSize: [16, 32, 32],
        // Far more steps than the test reads: the stream is still open when it looks at the file.
        sampling: SamplingOptions.fromPartial({ negativesPerEpoch: 64 }),
      }),
    );
    const received: Batch[] = [];
    stream.on('data', (batch: Batch) => received.push(batch));
    const count = (n: number) =>
      pollUntil(async () => (received.length >= n ? true : undefined), {
        timeoutMs: 10_000,
        intervalMs: 20,
        describe: () => `${n} messages, got ${received.length}`,
      });
    try {
      await count(UNFLUSHED);
      // Control: time enough for several more batches, which the server prepares but may not write.
      await new Promise((resolve) => setTimeout(resolve, 800));
      assert.equal(received.length, UNFLUSHED, 'no batch beyond the unreleased ones');
      const first = received[0]!.sharedMemory!;
      const slotBytes = Number(received[1]!.sharedMemory!.offset - first.offset);
      assert.ok(slotBytes >= Number(first.length));
      assert.ok(received.every((batch) => batch.image.length === 0 && batch.sharedMemory !== undefined));
      assert.equal(statSync(first.path).size, UNFLUSHED * slotBytes, 'the file holds the slots only');
      await new Promise<void>((resolve, reject) => {
        const releases = server.client.releaseSharedBatches((error) => (error ? reject(error) : resolve()));
        releases.write({ path: first.path, ids: [first.id] });
        releases.end();
      });
      await count(UNFLUSHED + 1);
      const third = received[UNFLUSHED]!.sharedMemory!;
      assert.equal(third.offset, first.offset, 'the released slot is the one reused');
      assert.equal(statSync(first.path).size, UNFLUSHED * slotBytes);
    } finally {
      stream.on('error', () => {}); // the cancel below
      stream.cancel();
      rmSync(probePath, { force: true });
    }
    await pollUntil(async () => (filesIn(directory).length === 0 ? true : undefined), {
      timeoutMs: 10_000,
      describe: () => `an empty ${directory} after the cancel, holding ${filesIn(directory).join(', ')}`,
    });
  });
});
