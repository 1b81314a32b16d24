import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  type ChannelOptions,
  type ClientReadableStream,
  connectivityState,
  credentials,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import { type Batch, VoxelFeedClient } from '../../gen/voxelfeed/v1/voxelfeed.js';
import { MAX_REQUEST_BYTES } from '../../server/service/create-grpc-server.js';
import type { ServiceLimits } from '../../server/service/service-limits.js';
import {
  baseStreamRequest,
  getDatasetInfo,
  getSample,
  longEpoch,
  rejectsWithStatus,
  streamAll,
} from '../support/grpc-calls.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { RecordingObserver } from '../support/stream-observer.js';
import { LARGE_MESSAGES, scrapeMetrics, startTestServer, type TestServer } from '../support/test-server.js';

/** Its own channel and connection: grpc-js would otherwise share one connection among clients of a target. */
const OWN_CONNECTION: ChannelOptions = { ...LARGE_MESSAGES, 'grpc.use_local_subchannel_pool': 1 };

/** 1000 steps of 8x16x16 crops. */
const LONG_EPOCH = longEpoch();

function ownClient(address: string): VoxelFeedClient {
  return new VoxelFeedClient(address, credentials.createInsecure(), OWN_CONNECTION);
}

/** Opens a long stream and resolves once its first batch has arrived (the server counts it), then pauses it. */
async function openHeldStream(client: VoxelFeedClient): Promise<ClientReadableStream<Batch>> {
  const stream = client.streamBatches(baseStreamRequest(LONG_EPOCH));
  await new Promise<void>((resolve, reject) => {
    stream.once('data', () => {
      stream.pause();
      resolve();
    });
    stream.once('error', reject);
  });
  // Its end (CANCELLED, UNAVAILABLE) is what the test causes; the server side is checked instead.
  stream.on('error', () => {});
  return stream;
}

/**
 * A TCP relay in front of the server, standing in for the network between a trainer and the server: `cut`
 * closes every relayed connection (a client process that died), `stall` stops relaying in both directions but
 * keeps the sockets open (a host that vanished without a word: only keepalive pings can tell).
 */
async function startRelay(targetPort: number) {
  const sockets: net.Socket[] = [];
  const pairs: Array<readonly [net.Socket, net.Socket]> = [];
  const relay = net.createServer((downstream) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const socket of [downstream, upstream]) {
      sockets.push(socket);
      socket.on('error', () => {});
    }
    downstream.pipe(upstream);
    upstream.pipe(downstream);
    pairs.push([downstream, upstream]);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(relay.address() as net.AddressInfo).port}`,
    cut(): void {
      for (const socket of sockets) socket.destroy();
    },
    stall(): void {
      for (const [downstream, upstream] of pairs) {
        downstream.unpipe(upstream);
        upstream.unpipe(downstream);
        downstream.pause();
        upstream.pause();
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        relay.close(() => resolve());
      }),
  };
}

/** Waits (bounded) until the channel's state is no longer `from`, and returns the new state. */
async function nextState(client: VoxelFeedClient, from: connectivityState, withinMs: number) {
  const channel = client.getChannel();
  await new Promise<void>((resolve, reject) =>
    channel.watchConnectivityState(from, Date.now() + withinMs, (error) =>
      error ? reject(error) : resolve(),
    ),
  );
  return channel.getConnectivityState(false);
}

describe('stream limits', { timeout: 30_000 }, () => {
  let dataset: TempDataset;
  const servers: TestServer[] = [];
  const clients: VoxelFeedClient[] = [];
  const start = async (limits: Partial<ServiceLimits>, observer?: RecordingObserver) => {
    const server = await startTestServer({
      data: dataset.dir,
      limits,
      ...(observer ? { hooks: { observer } } : {}),
    });
    servers.push(server);
    return server;
  };
  const client = (address: string) => {
    const made = ownClient(address);
    clients.push(made);
    return made;
  };

  before(async () => {
    dataset = await createPhantomDataset({ series: 4, shape: [24, 48, 48], seed: 11n });
  });

  after(async () => {
    for (const made of clients) made.close();
    await Promise.all(servers.map((server) => server.close()));
    await dataset?.cleanup();
  });

  it('refuses a stream over the per-host limit, counting every connection of the host, and keeps serving', async () => {
    const ends = new RecordingObserver();
    const server = await start({ maxStreams: 10, maxStreamsPerPeer: 2 }, ends);
    const first = await openHeldStream(client(server.address));
    const second = await openHeldStream(client(server.address));
    await rejectsWithStatus(streamAll(client(server.address), LONG_EPOCH), status.RESOURCE_EXHAUSTED, [
      'client 127.0.0.1 has 2 open streams',
      '--max-streams-per-peer 2',
      'VOXELFEED_MAX_STREAMS_PER_PEER',
    ]);
    first.cancel();
    await ends.endsReached(2);
    const batches = await streamAll(server.client, { ...LONG_EPOCH, maxSteps: 2n });
    assert.equal(batches.length, 2, 'a freed slot serves the next stream');
    second.cancel();
    await ends.endsReached(4);
    assert.deepEqual([...ends.codes].sort(), ['CANCELLED', 'CANCELLED', 'OK', 'RESOURCE_EXHAUSTED']);
    const exposition = await scrapeMetrics(server.running);
    assert.match(
      exposition,
      /^grpc_server_handled_total\{grpc_type="server_stream",grpc_service="voxelfeed\.v1\.VoxelFeed",grpc_method="StreamBatches",grpc_code="ResourceExhausted"\} 1$/m,
    );
  });

  it('refuses a stream over the total limit, naming --max-streams', async () => {
    const ends = new RecordingObserver();
    const server = await start({ maxStreams: 2, maxStreamsPerPeer: 10 }, ends);
    const held = [await openHeldStream(server.client), await openHeldStream(server.client)];
    await rejectsWithStatus(streamAll(server.client, LONG_EPOCH), status.RESOURCE_EXHAUSTED, [
      'has 2 open streams',
      '--max-streams 2',
      'VOXELFEED_MAX_STREAMS',
    ]);
    for (const stream of held) stream.cancel();
    await ends.endsReached(3);
    assert.equal((await streamAll(server.client, { ...LONG_EPOCH, maxSteps: 1n })).length, 1);
  });

  describe('with one slot, frees it however a stream ends', () => {
    const ends = new RecordingObserver();
    let server: TestServer;
    /** The slot is free: a new stream is served to its end. */
    const probe = async () => {
      const before = ends.codes.length;
      assert.equal((await streamAll(server.client, { ...LONG_EPOCH, maxSteps: 1n })).length, 1);
      await ends.endsReached(before + 1);
    };

    before(async () => {
      server = await start(
        { maxStreams: 1, maxStreamsPerPeer: 1, keepaliveMs: 100, keepaliveTimeoutMs: 100 },
        ends,
      );
    });

    it('after a stream that ends OK', async () => {
      await probe();
      await probe();
      assert.deepEqual(ends.codes.slice(-2), ['OK', 'OK']);
    });

    it('after a stream refused as invalid', async () => {
      await rejectsWithStatus(streamAll(server.client, { batchSize: 0 }), status.INVALID_ARGUMENT, [
        'batch_size',
      ]);
      await probe();
    });

    it('after the client cancels', async () => {
      const count = ends.codes.length;
      (await openHeldStream(server.client)).cancel();
      await ends.endsReached(count + 1);
      assert.equal(ends.codes.at(-1), 'CANCELLED');
      await probe();
    });

    it('after the deadline passes', async () => {
      const count = ends.codes.length;
      const stream = server.client.streamBatches(baseStreamRequest(LONG_EPOCH), {
        deadline: Date.now() + 300,
      });
      // Paused after its first batch: grpc-js does not honour a pause before the first message, and this
      // epoch's 1000 small batches could otherwise all arrive before the deadline.
      stream.once('data', () => stream.pause());
      const error = await new Promise<ServiceError>((resolve) => stream.on('error', resolve));
      assert.equal(error.code, status.DEADLINE_EXCEEDED);
      await ends.endsReached(count + 1);
      assert.equal(ends.codes.at(-1), 'CANCELLED', 'the stream was admitted, then cut off');
      await probe();
    });

    it('after the client connection drops', async () => {
      const relay = await startRelay(server.running.grpc.port);
      try {
        const count = ends.codes.length;
        await openHeldStream(client(relay.address));
        relay.cut();
        await ends.endsReached(count + 1);
        assert.equal(ends.codes.at(-1), 'CANCELLED');
        await probe();
      } finally {
        await relay.close();
      }
    });

    it('after the client host goes silent, once a keepalive ping is not answered', async () => {
      const relay = await startRelay(server.running.grpc.port);
      try {
        const count = ends.codes.length;
        await openHeldStream(client(relay.address));
        relay.stall();
        await ends.endsReached(count + 1);
        assert.equal(ends.codes.at(-1), 'CANCELLED');
        await probe();
      } finally {
        await relay.close();
      }
    });
  });

  describe('message and request sizes', () => {
    let server: TestServer;
    const ends = new RecordingObserver();

    before(async () => {
      server = await start({ maxBatchBytes: 1024 * 1024, maxCropVoxels: 32 * 32 * 32 }, ends);
    });

    it('refuses a request over the request size limit with RESOURCE_EXHAUSTED, before any handler runs', async () => {
      const huge = 'x'.repeat(100_000);
      assert.ok(huge.length > MAX_REQUEST_BYTES);
      await rejectsWithStatus(getDatasetInfo(server.client, huge), status.RESOURCE_EXHAUSTED, []);
      await rejectsWithStatus(streamAll(server.client, { dataset: huge }), status.RESOURCE_EXHAUSTED, []);
      assert.equal(ends.codes.length, 0, 'the stream handler never ran');
      assert.equal((await getDatasetInfo(server.client)).dataset, server.running.catalog.name);
      assert.equal((await streamAll(server.client, { ...LONG_EPOCH, maxSteps: 1n })).length, 1);
    });

    it('refuses a batch over --max-batch-bytes with INVALID_ARGUMENT naming its size and the limit', async () => {
      // 8 crops of 32x32x32 as float32 with uint8 masks: 8 * 32768 * 5 bytes = 1.25 MiB.
      await rejectsWithStatus(
        streamAll(server.client, { batchSize: 8, cropSize: [32, 32, 32], dtype: 2, includeMask: true }),
        status.INVALID_ARGUMENT,
        ['takes 1.3 MiB', "server's limit of 1.0 MiB", 'lower batch_size'],
      );
      const fits = await streamAll(server.client, {
        batchSize: 6,
        cropSize: [32, 32, 32],
        dtype: 2,
        maxSteps: 1n,
      });
      assert.equal(fits[0]?.image.length, 6 * 32 * 32 * 32 * 4, 'a batch of 0.94 MiB is served');
    });

    it('refuses a crop over --max-crop-voxels with INVALID_ARGUMENT, in streams and single samples', async () => {
      const fragments = ['33x32x32 = 33792 voxels', "server's limit of 32768 voxels", 'crop_size'];
      await rejectsWithStatus(
        streamAll(server.client, { batchSize: 1, cropSize: [33, 32, 32] }),
        status.INVALID_ARGUMENT,
        fragments,
      );
      await rejectsWithStatus(
        getSample(server.client, { cropSize: [33, 32, 32] }),
        status.INVALID_ARGUMENT,
        fragments,
      );
      assert.equal(
        (await getSample(server.client, { cropSize: [32, 32, 32] })).shape.join('x'),
        '1x32x32x32',
      );
    });
  });

  describe('connection timers', () => {
    it('closes a connection without calls after the idle timeout, and not one with a stream open', async () => {
      const server = await start({ idleTimeoutMs: 200 });
      const streaming = client(server.address);
      const stream = await openHeldStream(streaming);
      const idle = client(server.address);
      await getDatasetInfo(idle);
      assert.equal(idle.getChannel().getConnectivityState(false), connectivityState.READY);
      // GOAWAY from the server: grpc-js moves the channel to IDLE, and reconnects at the next call.
      assert.equal(await nextState(idle, connectivityState.READY, 10_000), connectivityState.IDLE);
      assert.equal(
        streaming.getChannel().getConnectivityState(false),
        connectivityState.READY,
        'the connection with an open stream, older than the idle one, is kept',
      );
      await getDatasetInfo(idle);
      stream.cancel();
    });
  });
});
