import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData, status } from '@grpc/grpc-js';
import { createFeedClient } from '../../client/create-feed-client.js';
import { FeedError, isRetryable } from '../../client/feed-error.js';
import {
  type DatasetInfo,
  type GetDatasetInfoRequest,
  type ReportTrainerStatsResponse,
  type TrainerStats,
  VoxelFeedService,
} from '../../gen/voxelfeed/v1/voxelfeed.js';

/** A scripted VoxelFeed server: each call takes the next answer of its method's script. */
class ScriptedServer {
  readonly server = new Server();
  readonly authorization: string[] = [];
  readonly calls = { getDatasetInfo: 0, reportTrainerStats: 0 };
  script: Array<{ code: status; details: string } | 'ok'> = [];
  port = 0;

  async start(): Promise<void> {
    this.server.addService(VoxelFeedService, {
      getDatasetInfo: (
        call: ServerUnaryCall<GetDatasetInfoRequest, DatasetInfo>,
        callback: sendUnaryData<DatasetInfo>,
      ) => {
        this.calls.getDatasetInfo += 1;
        this.answer(call.metadata.get('authorization'), callback, {
          dataset: 'scripted',
          series: 3,
          nodules: 5,
          fingerprint: 'f',
          skippedSeries: 0,
          seriesInfo: [],
          maxCropVoxels: 10n,
          defaultItemsPerEpoch: 5n,
        });
      },
      reportTrainerStats: (
        call: ServerUnaryCall<TrainerStats, ReportTrainerStatsResponse>,
        callback: sendUnaryData<ReportTrainerStatsResponse>,
      ) => {
        this.calls.reportTrainerStats += 1;
        this.answer(call.metadata.get('authorization'), callback, {});
      },
    });
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) =>
        error ? reject(error) : resolve(port),
      ),
    );
  }

  private answer<T>(authorization: unknown[], callback: sendUnaryData<T>, value: T): void {
    this.authorization.push(String(authorization[0]));
    const next = this.script.shift() ?? 'ok';
    if (next === 'ok') callback(null, value);
    else callback({ code: next.code, details: next.details });
  }
}

describe('unary calls of the feed client', () => {
  const scripted = new ScriptedServer();
  const options = () => ({
    address: `127.0.0.1:${scripted.port}`,
    token: 'tok-123',
    reconnect: { initialBackoffMs: 1, maxBackoffMs: 5, maxAttempts: 3 },
  });

  before(() => scripted.start());
  after(() => scripted.server.forceShutdown());

  it('sends the token as authorization: Bearer metadata', async () => {
    const client = createFeedClient(options());
    try {
      scripted.authorization.length = 0;
      await client.datasetInfo();
      await client.reportTrainerStats({ job: 'j', rank: 0, step: 1 });
      assert.deepEqual(scripted.authorization, ['Bearer tok-123', 'Bearer tok-123']);
    } finally {
      client.close();
    }
  });

  it('retries UNAVAILABLE answers and returns the first success', async () => {
    const client = createFeedClient(options());
    try {
      const before = scripted.calls.getDatasetInfo;
      scripted.script = [
        { code: status.UNAVAILABLE, details: 'draining' },
        { code: status.UNAVAILABLE, details: 'draining' },
      ];
      const info = await client.datasetInfo();
      assert.equal(info.dataset, 'scripted');
      assert.equal(info.maxCropVoxels, 10);
      assert.equal(scripted.calls.getDatasetInfo - before, 3);
    } finally {
      client.close();
    }
  });

  it('gives up with UNAVAILABLE after maxAttempts, keeping the last details', async () => {
    const client = createFeedClient(options());
    try {
      scripted.script = Array.from({ length: 3 }, () => ({ code: status.UNAVAILABLE, details: 'draining' }));
      await assert.rejects(client.datasetInfo(), (error: unknown) => {
        assert.ok(error instanceof FeedError);
        assert.equal(error.code, 'UNAVAILABLE');
        assert.equal(error.details, 'draining');
        assert.match(error.message, /GetDatasetInfo gave up on 127\.0\.0\.1:\d+ after 3 failed attempts/);
        return true;
      });
    } finally {
      client.close();
    }
  });

  it('throws other statuses at once, and never retries a trainer report', async () => {
    const client = createFeedClient(options());
    try {
      const before = { ...scripted.calls };
      scripted.script = [
        { code: status.INTERNAL, details: 'internal error; the server log has the details' },
      ];
      await assert.rejects(client.datasetInfo(), (error: unknown) => {
        assert.ok(error instanceof FeedError);
        assert.equal(error.code, 'INTERNAL');
        assert.equal(error.status, status.INTERNAL);
        assert.equal(error.details, 'internal error; the server log has the details');
        return true;
      });
      scripted.script = [{ code: status.UNAVAILABLE, details: 'draining' }];
      await assert.rejects(client.reportTrainerStats({ job: 'j', rank: 0, step: 1 }), {
        code: 'UNAVAILABLE',
      });
      assert.equal(scripted.calls.getDatasetInfo - before.getDatasetInfo, 1);
      assert.equal(scripted.calls.reportTrainerStats - before.reportTrainerStats, 1);
    } finally {
      client.close();
    }
  });
});

describe('isRetryable', () => {
  const cases: Array<[string, string, boolean]> = [
    ['UNAVAILABLE', 'read ECONNRESET', true],
    ['UNAVAILABLE', 'Connection dropped', true],
    ['INTERNAL', 'Received RST_STREAM with code 2 (Internal server error)', true],
    ['INTERNAL', 'Received RST_STREAM with code 0 (Call ended without gRPC status)', true],
    ['INTERNAL', 'internal error; the server log has the details', false],
    ['INTERNAL', 'Response message parsing error: malformed batch', false],
    ['INVALID_ARGUMENT', 'batch_size is 0', false],
    ['DATA_LOSS', 'series 1.2.3 is truncated', false],
    ['OUT_OF_RANGE', 'start_step is 99', false],
    ['CANCELLED', 'Call cancelled', false],
  ];
  for (const [code, details, expected] of cases) {
    it(`${expected ? 'retries' : 'does not retry'} ${code} "${details}"`, () => {
      assert.equal(isRetryable(new FeedError(code as FeedError['code'], details, details)), expected);
    });
  }
});
