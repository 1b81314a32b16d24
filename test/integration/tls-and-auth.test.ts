import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type ChannelCredentials,
  credentials,
  status as GrpcStatus,
  Metadata,
  type ServiceError,
} from '@grpc/grpc-js';
import { pino } from 'pino';
import {
  createFeedClient,
  type FeedClient,
  type FeedClientOptions,
  isFeedError,
} from '../../client/index.js';
import { tokenFingerprint } from '../../common/token-file.js';
import { VoxelFeedClient } from '../../gen/voxelfeed/v1/voxelfeed.js';
import { defaultServeConfig, type ServeConfig } from '../../server/config/serve-config.js';
import type { Logger } from '../../server/log/logger.js';
import { type RunningServer, startServer } from '../../server/main.js';
import { getDatasetInfo } from '../support/grpc-calls.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { spawnTrainer } from '../support/spawn-trainer.js';
import { healthStatus, reflectionClient } from '../support/standard-services.js';
import { createTestCertificates, type TestCertificates } from '../support/test-certificates.js';

const CROP: [number, number, number] = [8, 16, 16];
/** Fresh per run, so no token in this file could ever be a real one. */
const OLD_TOKEN = `old-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
const NEW_TOKEN = `new-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
const WRONG_TOKEN = `wrong-${Math.random().toString(36).slice(2)}`;

interface SecureServer {
  readonly running: RunningServer;
  readonly address: string;
  /** Every JSON log line the server wrote. */
  readonly log: string[];
}

async function startSecureServer(data: string, security: Pick<ServeConfig, 'tls' | 'authTokenFile'>) {
  const log: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => log.push(line) }) as Logger;
  const config = defaultServeConfig({
    data,
    port: 0,
    metricsPort: 0,
    cacheMaxBytes: 64 * 1024 * 1024,
    logLevel: 'debug',
    shutdownGraceMs: 0,
    ...security,
  });
  const running = await startServer(config, {}, logger);
  return { running, address: `127.0.0.1:${running.grpc.port}`, log } satisfies SecureServer;
}

/** The gRPC status name a promise rejects with (FeedError or grpc-js ServiceError), and its details. */
async function failure(promise: Promise<unknown>): Promise<{ code: string; details: string }> {
  try {
    await promise;
  } catch (error) {
    if (isFeedError(error)) return { code: error.code, details: error.details };
    const service = error as ServiceError;
    if (typeof service.code === 'number') return { code: GrpcStatus[service.code], details: service.details };
    throw error;
  }
  return assert.fail('expected the call to fail');
}

async function firstBatch(client: FeedClient, dataset = ''): Promise<number> {
  for await (const batch of client.streamBatches({ dataset, batchSize: 2, cropSize: CROP, maxSteps: 1 })) {
    return batch.step;
  }
  return assert.fail('the stream ended without a batch');
}

async function listServices(
  address: string,
  creds: ChannelCredentials,
  metadata: Metadata,
): Promise<string[]> {
  const reflection = reflectionClient(address, creds, metadata);
  try {
    return await reflection.listServices();
  } finally {
    reflection.close();
  }
}

describe('a server with TLS and bearer tokens', () => {
  let dataset: TempDataset;
  let pki: TestCertificates;
  let tokenDir: string;
  let tokenFile: string;
  let server: SecureServer;
  let ca: Buffer;
  const clients: FeedClient[] = [];
  const client = (options: Partial<FeedClientOptions>): FeedClient => {
    const made = createFeedClient({ address: server.address, reconnect: { maxAttempts: 1 }, ...options });
    clients.push(made);
    return made;
  };

  before(async () => {
    [dataset, pki, tokenDir] = await Promise.all([
      createPhantomDataset({ series: 2, shape: [16, 32, 32] }),
      createTestCertificates(),
      mkdtemp(path.join(os.tmpdir(), 'voxelfeed-tokens-')),
    ]);
    tokenFile = path.join(tokenDir, 'tokens');
    await writeFile(
      tokenFile,
      `# the new token first: trainers send the first one\n\n${NEW_TOKEN}\n  ${OLD_TOKEN}  \n`,
    );
    ca = await pki.read(pki.ca);
    server = await startSecureServer(dataset.dir, {
      tls: { certFile: pki.server.cert, keyFile: pki.server.key, clientCaFile: null },
      authTokenFile: tokenFile,
    });
  });

  after(async () => {
    for (const made of clients) made.close();
    await server?.running.stop();
    await Promise.all([dataset?.cleanup(), pki?.cleanup(), tokenDir && rm(tokenDir, { recursive: true })]);
  });

  it('serves a client that trusts its CA and sends a token of the file, on every method', async () => {
    const trusted = client({ tls: { ca }, token: NEW_TOKEN });
    assert.equal((await trusted.datasetInfo()).dataset, 'phantom');
    assert.equal((await trusted.getSample({ index: 0, cropSize: CROP })).shape[0], 1);
    assert.equal(await firstBatch(trusted), 0);
    await trusted.reportTrainerStats({ job: 'tls-test', rank: 0, step: 0 });
  });

  it('accepts every token of the file, so clients can move to a new token one by one', async () => {
    const old = client({ tls: { ca }, token: OLD_TOKEN });
    assert.equal((await old.datasetInfo()).series, 2);
  });

  it('refuses StreamBatches, GetSample and GetDatasetInfo without a token, saying how to send one', async () => {
    const anonymous = client({ tls: { ca } });
    for (const call of [
      () => anonymous.datasetInfo(),
      () => anonymous.getSample({ index: 0, cropSize: CROP }),
      () => firstBatch(anonymous),
      () => anonymous.reportTrainerStats({ job: 'tls-test', rank: 0, step: 0 }),
    ]) {
      const { code, details } = await failure(call());
      assert.equal(code, 'UNAUTHENTICATED');
      assert.match(details, /authorization: Bearer <token>/);
      assert.match(details, /--auth-token-file/);
    }
  });

  it('refuses a wrong token with UNAUTHENTICATED and never echoes it', async () => {
    const wrong = client({ tls: { ca }, token: WRONG_TOKEN });
    // A token that is a prefix of a right one must not pass either: the comparison is of whole tokens.
    const prefix = client({ tls: { ca }, token: NEW_TOKEN.slice(0, -1) });
    for (const call of [
      () => wrong.getSample({ index: 0, cropSize: CROP }),
      () => firstBatch(wrong),
      () => wrong.datasetInfo(),
      () => prefix.datasetInfo(),
    ]) {
      const { code, details } = await failure(call());
      assert.equal(code, 'UNAUTHENTICATED');
      assert.ok(!details.includes(WRONG_TOKEN) && !details.includes(NEW_TOKEN.slice(0, -1)), details);
    }
  });

  it('refuses an authorization value that is not "Bearer <token>"', async () => {
    const raw = new VoxelFeedClient(server.address, credentials.createSsl(ca));
    try {
      for (const value of [NEW_TOKEN, `Basic ${NEW_TOKEN}`, `Bearer ${NEW_TOKEN} extra`]) {
        const metadata = new Metadata();
        metadata.set('authorization', value);
        const error = await new Promise<ServiceError | null>((resolve) =>
          raw.getDatasetInfo({ dataset: '' }, metadata, (e) => resolve(e)),
        );
        assert.equal(error?.code, GrpcStatus.UNAUTHENTICATED, value);
        assert.match(error.details, /not of the form "Bearer <token>"/);
      }
      // The scheme is case-insensitive (RFC 7235).
      const metadata = new Metadata();
      metadata.set('authorization', `bearer ${OLD_TOKEN}`);
      const error = await new Promise<ServiceError | null>((resolve) =>
        raw.getDatasetInfo({ dataset: '' }, metadata, (e) => resolve(e)),
      );
      assert.equal(error, null);
    } finally {
      raw.close();
    }
  });

  it('answers the health check without a token, as Kubernetes and Docker probes send none', async () => {
    assert.equal(await healthStatus(server.address, '', credentials.createSsl(ca)), 'SERVING');
  });

  it('guards server reflection like the data methods', async () => {
    const creds = credentials.createSsl(ca);
    const refused = await failure(listServices(server.address, creds, new Metadata()));
    assert.equal(refused.code, 'UNAUTHENTICATED');
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${OLD_TOKEN}`);
    assert.ok((await listServices(server.address, creds, metadata)).includes('voxelfeed.v1.VoxelFeed'));
  });

  it('is UNAVAILABLE to a plaintext client and to a client that trusts another CA', async () => {
    const otherCa = await pki.read(pki.otherCa);
    for (const creds of [credentials.createInsecure(), credentials.createSsl(otherCa)]) {
      const raw = new VoxelFeedClient(server.address, creds);
      try {
        const { code } = await failure(getDatasetInfo(raw));
        assert.equal(code, 'UNAVAILABLE');
      } finally {
        raw.close();
      }
    }
    // The feed client reports the same code after its one attempt.
    assert.equal((await failure(client({ token: NEW_TOKEN }).datasetInfo())).code, 'UNAVAILABLE');
  });

  it('counts refused calls in grpc_server_handled_total with code Unauthenticated', async () => {
    await failure(client({ tls: { ca } }).getSample({ index: 0, cropSize: CROP }));
    const text = await (await fetch(`http://127.0.0.1:${server.running.metricsPort}/metrics`)).text();
    const line = text
      .split('\n')
      .find(
        (l) =>
          l.startsWith('grpc_server_handled_total{') &&
          l.includes('grpc_method="GetSample"') &&
          l.includes('grpc_code="Unauthenticated"'),
      );
    assert.ok(line && Number(line.split(' ')[1]) >= 1, `no counted refusal in:\n${text.slice(0, 3000)}`);
  });

  it('logs the fingerprints of its tokens and of refused ones, never a token', () => {
    const all = server.log.join('');
    assert.ok(all.includes(tokenFingerprint(NEW_TOKEN)) && all.includes(tokenFingerprint(OLD_TOKEN)), all);
    assert.ok(all.includes(tokenFingerprint(WRONG_TOKEN)), 'the refused token is logged by fingerprint');
    for (const token of [NEW_TOKEN, OLD_TOKEN, WRONG_TOKEN])
      assert.ok(!all.includes(token), `log holds ${token}`);
  });

  it('serves data sets by name only: a path, a drive or a NUL in the name is NOT_FOUND and reads nothing', async () => {
    const trusted = client({ tls: { ca }, token: NEW_TOKEN });
    const served = server.running.registry.datasets.get('phantom');
    assert.ok(served);
    // Requests reach files only through a served data set's volume cache (its catalog was read at start),
    // so counting the cache's gets shows that no file is opened for these names.
    let gets = 0;
    const get = served.cache.get.bind(served.cache);
    served.cache.get = (key) => {
      gets += 1;
      return get(key);
    };
    // Existing data set folders: a server that resolved names as paths would find and serve them.
    const names = [
      '../phantom',
      dataset.dir,
      `${dataset.dir}/`,
      '/etc/passwd',
      'C:\\x',
      'phan\u0000tom',
      'constructor',
    ];
    for (const name of names) {
      for (const call of [
        () => trusted.datasetInfo(name),
        () => trusted.getSample({ dataset: name, index: 0, cropSize: CROP }),
        () => firstBatch(trusted, name),
      ]) {
        const { code, details } = await failure(call());
        assert.equal(code, 'NOT_FOUND', name);
        assert.match(details, /not served here; served: phantom$/, name);
      }
    }
    assert.equal(gets, 0);
    served.cache.get = get;
  });
});

describe('a server with mutual TLS', () => {
  let dataset: TempDataset;
  let pki: TestCertificates;
  let server: SecureServer;
  let ca: Buffer;

  before(async () => {
    [dataset, pki] = await Promise.all([
      createPhantomDataset({ series: 2, shape: [16, 32, 32] }),
      createTestCertificates(),
    ]);
    ca = await pki.read(pki.ca);
    server = await startSecureServer(dataset.dir, {
      tls: { certFile: pki.server.cert, keyFile: pki.server.key, clientCaFile: pki.ca },
      authTokenFile: null,
    });
  });

  after(async () => {
    await server?.running.stop();
    await Promise.all([dataset?.cleanup(), pki?.cleanup()]);
  });

  async function infoWith(tls: FeedClientOptions['tls']) {
    const made = createFeedClient({
      address: server.address,
      reconnect: { maxAttempts: 1 },
      ...(tls ? { tls } : {}),
    });
    try {
      return await made.datasetInfo();
    } finally {
      made.close();
    }
  }

  it('serves a client that presents a certificate signed by the client CA', async () => {
    const [cert, key] = await Promise.all([pki.read(pki.client.cert), pki.read(pki.client.key)]);
    assert.equal((await infoWith({ ca, cert, key })).dataset, 'phantom');
  });

  it('refuses a client without a certificate, and one whose certificate another CA signed', async () => {
    assert.equal((await failure(infoWith({ ca }))).code, 'UNAVAILABLE');
    const [cert, key] = await Promise.all([pki.read(pki.otherClient.cert), pki.read(pki.otherClient.key)]);
    assert.equal((await failure(infoWith({ ca, cert, key }))).code, 'UNAVAILABLE');
  });

  it('still answers the health check to a client with a certificate', async () => {
    const [cert, key] = await Promise.all([pki.read(pki.client.cert), pki.read(pki.client.key)]);
    assert.equal(await healthStatus(server.address, '', credentials.createSsl(ca, key, cert)), 'SERVING');
  });
});

describe('voxelfeed train against a server with mutual TLS and tokens', () => {
  let dataset: TempDataset;
  let pki: TestCertificates;
  let tokenDir: string;
  let server: SecureServer;

  before(async () => {
    [dataset, pki, tokenDir] = await Promise.all([
      createPhantomDataset({ series: 2, shape: [16, 32, 32] }),
      createTestCertificates(),
      mkdtemp(path.join(os.tmpdir(), 'voxelfeed-tokens-')),
    ]);
    await writeFile(path.join(tokenDir, 'tokens'), `# rotation in progress\n${NEW_TOKEN}\n${OLD_TOKEN}\n`);
    server = await startSecureServer(dataset.dir, {
      tls: { certFile: pki.server.cert, keyFile: pki.server.key, clientCaFile: pki.ca },
      authTokenFile: path.join(tokenDir, 'tokens'),
    });
  });

  after(async () => {
    await server?.running.stop();
    await Promise.all([dataset?.cleanup(), pki?.cleanup(), tokenDir && rm(tokenDir, { recursive: true })]);
  });

  it('trains two steps with --tls-ca, --tls-cert, --tls-key and --auth-token-file, logging no token', async () => {
    const trainer = await spawnTrainer([
      ...['--server', server.address, '--model', 'tiny', '--backend', 'cpu', '--crop', '8,16,16'],
      ...['--batch', '1', '--steps', '2', '--metrics-port', '0', '--log-every', '1'],
      ...['--tls-ca', pki.ca, '--tls-cert', pki.client.cert, '--tls-key', pki.client.key],
      ...['--auth-token-file', path.join(tokenDir, 'tokens')],
    ]);
    try {
      const [code] =
        trainer.child.exitCode === null ? await once(trainer.child, 'exit') : [trainer.child.exitCode];
      assert.equal(code, 0, trainer.stderr());
      const log = trainer.stderr();
      assert.match(log, /step 2\/\d+/);
      assert.ok(log.includes(tokenFingerprint(NEW_TOKEN)), 'the trainer logs which token it sends');
      assert.ok(!log.includes(NEW_TOKEN) && !log.includes(OLD_TOKEN), 'the trainer log holds a token');
      assert.ok(!server.log.join('').includes('refused a call'), 'the server refused none of its calls');
    } finally {
      await trainer.stop();
    }
  });
});
