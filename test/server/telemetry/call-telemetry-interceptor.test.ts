import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { parsePrometheusText, sumOf } from '../../../bin/demo/prometheus-text.js';
import { GetDatasetInfoRequest } from '../../../gen/voxelfeed/v1/voxelfeed.js';
import { MAX_REQUEST_BYTES } from '../../../server/service/create-grpc-server.js';
import { baseStreamRequest, longEpoch } from '../../support/grpc-calls.js';
import { createPhantomDataset, type TempDataset } from '../../support/phantom-dataset.js';
import { pollUntil } from '../../support/poll-until.js';
import { healthStatus, reflectionClient } from '../../support/standard-services.js';
import { scrapeMetrics, startTestServer, type TestServer } from '../../support/test-server.js';

/*
 * The standard gRPC server series of a real server with a bearer token, read from its /metrics page: every
 * call is counted with the code it ended with, those refused before a handler (by the token check, the
 * request decoder or grpc-js itself) included.
 */

const TOKEN = `telemetry-${process.pid}-${Date.now()}`;
const VOXELFEED = 'voxelfeed.v1.VoxelFeed';
const identity = (bytes: Buffer): Buffer => bytes;

type Labels = Record<string, string>;

function voxelfeed(method: string, type = 'unary'): Labels {
  return { grpc_service: VOXELFEED, grpc_method: method, grpc_type: type };
}

function bearer(token: string): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

describe('the call telemetry interceptor', () => {
  let dataset: TempDataset;
  let tokenDir: string;
  let server: TestServer;
  let raw: Client;

  /** The sum of `name` over the samples with `labels`, as the server's /metrics page says now. */
  async function value(name: string, labels: Labels): Promise<number> {
    return sumOf(parsePrometheusText(await scrapeMetrics(server.running)), name, labels);
  }

  /** Runs `act` and returns how much each series grew meanwhile, once `ready` holds for the growth. */
  async function growth(
    series: ReadonlyArray<readonly [string, Labels]>,
    act: () => Promise<unknown>,
    ready: (grown: number[]) => boolean = () => true,
  ): Promise<number[]> {
    const before = await Promise.all(series.map(([name, labels]) => value(name, labels)));
    await act();
    let last: number[] = [];
    return pollUntil(
      async () => {
        last = (await Promise.all(series.map(([name, labels]) => value(name, labels)))).map(
          (now, i) => now - before[i]!,
        );
        return ready(last) ? last : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 50, describe: () => `the series to grow, last seen ${last}` },
    );
  }

  function unary(path: string, bytes: Buffer, metadata: Metadata): Promise<status> {
    return new Promise((resolve) => {
      raw.makeUnaryRequest(path, identity, identity, bytes, metadata, (error: ServiceError | null) =>
        resolve(error ? error.code : status.OK),
      );
    });
  }

  before(async () => {
    dataset = await createPhantomDataset({ series: 2, shape: [16, 24, 24], seed: 3n });
    tokenDir = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-call-telemetry-'));
    const tokenFile = path.join(tokenDir, 'tokens');
    await writeFile(tokenFile, `${TOKEN}\n`);
    server = await startTestServer({ data: dataset.dir, config: { authTokenFile: tokenFile } });
    raw = new Client(server.address, credentials.createInsecure());
  });

  after(async () => {
    raw?.close();
    await server?.close();
    await dataset?.cleanup();
    if (tokenDir) await rm(tokenDir, { recursive: true, force: true });
  });

  it('exposes every VoxelFeed method with every code at 0, labelled as go-grpc-prometheus does', async () => {
    const page = parsePrometheusText(await scrapeMetrics(server.running));
    const handled = page.filter((sample) => sample.name === 'grpc_server_handled_total');
    for (const [method, type] of [
      ['GetDatasetInfo', 'unary'],
      ['StreamBatches', 'server_stream'],
      ['GetSample', 'unary'],
      ['ReportTrainerStats', 'unary'],
      ['StreamTiles', 'server_stream'],
    ] as const) {
      for (const code of ['OK', 'Canceled', 'InvalidArgument', 'ResourceExhausted', 'DataLoss', 'Internal']) {
        const labels = { ...voxelfeed(method, type), grpc_code: code };
        assert.ok(
          handled.some((sample) => Object.entries(labels).every(([k, v]) => sample.labels[k] === v)),
          `no grpc_server_handled_total ${JSON.stringify(labels)}`,
        );
      }
    }
  });

  it('counts a call refused for a wrong token as Unauthenticated, with its request never read', async () => {
    const path = `/${VOXELFEED}/GetDatasetInfo`;
    const method = voxelfeed('GetDatasetInfo');
    let code: status | undefined;
    const [started, refused, received] = await growth(
      [
        ['grpc_server_started_total', method],
        ['grpc_server_handled_total', { ...method, grpc_code: 'Unauthenticated' }],
        ['grpc_server_msg_received_total', method],
      ],
      async () => {
        code = await unary(
          path,
          Buffer.from(GetDatasetInfoRequest.encode({ dataset: '' }).finish()),
          bearer('wrong'),
        );
      },
    );
    assert.equal(code, status.UNAUTHENTICATED);
    assert.deepEqual({ started, refused, received }, { started: 1, refused: 1, received: 0 });
  });

  it('counts a request that does not decode as InvalidArgument', async () => {
    const method = voxelfeed('GetDatasetInfo');
    let code: status | undefined;
    const [refused, received] = await growth(
      [
        ['grpc_server_handled_total', { ...method, grpc_code: 'InvalidArgument' }],
        ['grpc_server_msg_received_total', method],
      ],
      async () => {
        // Tag of field 1 with wire type 7, which protobuf does not define.
        code = await unary(`/${VOXELFEED}/GetDatasetInfo`, Buffer.from([0x0f, 0xff]), bearer(TOKEN));
      },
    );
    assert.equal(code, status.INVALID_ARGUMENT);
    assert.deepEqual({ refused, received }, { refused: 1, received: 1 });
  });

  it('counts a request over the size limit, which grpc-js refuses on its own, as ResourceExhausted', async () => {
    const method = voxelfeed('GetDatasetInfo');
    const huge = Buffer.from(
      GetDatasetInfoRequest.encode({ dataset: 'x'.repeat(MAX_REQUEST_BYTES) }).finish(),
    );
    let code: status | undefined;
    const [refused, canceled] = await growth(
      [
        ['grpc_server_handled_total', { ...method, grpc_code: 'ResourceExhausted' }],
        ['grpc_server_handled_total', { ...method, grpc_code: 'Canceled' }],
      ],
      async () => {
        code = await unary(`/${VOXELFEED}/GetDatasetInfo`, huge, bearer(TOKEN));
      },
    );
    assert.equal(code, status.RESOURCE_EXHAUSTED);
    assert.deepEqual({ refused, canceled }, { refused: 1, canceled: 0 });
  });

  it("counts a stream's messages and observes its handling time", async () => {
    const method = voxelfeed('StreamBatches', 'server_stream');
    let batches = 0;
    const grown = await growth(
      [
        ['grpc_server_started_total', method],
        ['grpc_server_msg_received_total', method],
        ['grpc_server_msg_sent_total', method],
        ['grpc_server_handled_total', { ...method, grpc_code: 'OK' }],
        ['grpc_server_handling_seconds_count', method],
        ['grpc_server_handling_seconds_sum', method],
      ],
      () =>
        new Promise<void>((resolve, reject) => {
          const call = server.client.streamBatches(
            baseStreamRequest({ ...longEpoch(), maxSteps: 3n }),
            bearer(TOKEN),
          );
          call.on('data', () => {
            batches += 1;
          });
          call.on('error', reject);
          call.on('end', resolve);
        }),
      // Sent is counted once gRPC has written a message, which may come after the client has read it.
      (grown) => grown[2] === batches,
    );
    assert.equal(batches, 3);
    const [started, received, sent, ok, count, seconds] = grown;
    assert.deepEqual(
      { started, received, sent, ok, count },
      { started: 1, received: 1, sent: 3, ok: 1, count: 1 },
    );
    assert.ok(seconds! > 0, `handling seconds grew by ${seconds}`);
  });

  it('counts a stream the client cancels as Canceled', async () => {
    const method = voxelfeed('StreamBatches', 'server_stream');
    const [canceled] = await growth(
      [['grpc_server_handled_total', { ...method, grpc_code: 'Canceled' }]],
      () =>
        new Promise<void>((resolve) => {
          const call = server.client.streamBatches(baseStreamRequest(longEpoch()), bearer(TOKEN));
          call.once('data', () => call.cancel());
          call.on('error', () => resolve());
        }),
      (grown) => grown[0] === 1,
    );
    assert.equal(canceled, 1);
  });

  it('counts health checks (open without a token) and refused reflection calls under their own services', async () => {
    const check = { grpc_service: 'grpc.health.v1.Health', grpc_method: 'Check', grpc_type: 'unary' };
    const reflection = {
      grpc_service: 'grpc.reflection.v1.ServerReflection',
      grpc_method: 'ServerReflectionInfo',
      grpc_type: 'bidi_stream',
    };
    let health = '';
    let reflected: unknown;
    const [checks, refusedReflection] = await growth(
      [
        ['grpc_server_handled_total', { ...check, grpc_code: 'OK' }],
        ['grpc_server_handled_total', { ...reflection, grpc_code: 'Unauthenticated' }],
      ],
      async () => {
        health = await healthStatus(server.address);
        const client = reflectionClient(server.address);
        try {
          reflected = await client.listServices().catch((error: unknown) => error);
        } finally {
          client.close();
        }
      },
    );
    assert.equal(health, 'SERVING');
    assert.equal((reflected as ServiceError).code, status.UNAUTHENTICATED);
    assert.deepEqual({ checks, refusedReflection }, { checks: 1, refusedReflection: 1 });
  });
});
