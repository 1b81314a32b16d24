import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, credentials, type ServiceError, status } from '@grpc/grpc-js';
import {
  GetDatasetInfoRequest,
  GetSampleRequest,
  StreamBatchesRequest,
  TrainerStats,
} from '../../gen/voxelfeed/v1/voxelfeed.js';
import { getSample, streamAll } from '../support/grpc-calls.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/*
 * Requests whose bytes are not the method's protobuf message (a client built from another schema, or a
 * broken proxy), sent raw through a grpc-js Client with identity serializers: the server must answer
 * INVALID_ARGUMENT naming the method and the expected message, not grpc-js's INTERNAL "Error deserializing
 * request", and keep serving.
 */

const SERVICE = '/voxelfeed.v1.VoxelFeed';
const CALL_DEADLINE_MS = 10_000;

/** Bytes no protobuf message decodes, each for a different reason. */
const GARBAGE: ReadonlyArray<[string, Buffer]> = [
  // Tag of field 1 with wire type 7, which protobuf does not define.
  ['an undefined wire type', Buffer.from([0x0f, 0xff, 0xff, 0xff])],
  // Field 1 as a length-delimited string of 100 bytes, with none following.
  ['a truncated string', Buffer.from([0x0a, 0x64, 0x61])],
];

const METHODS: ReadonlyArray<{
  name: string;
  typeName: string;
  decode: (bytes: Buffer) => unknown;
  streaming: boolean;
}> = [
  {
    name: 'StreamBatches',
    typeName: 'voxelfeed.v1.StreamBatchesRequest',
    decode: (bytes) => StreamBatchesRequest.decode(bytes),
    streaming: true,
  },
  {
    name: 'GetSample',
    typeName: 'voxelfeed.v1.GetSampleRequest',
    decode: (bytes) => GetSampleRequest.decode(bytes),
    streaming: false,
  },
  {
    name: 'GetDatasetInfo',
    typeName: 'voxelfeed.v1.GetDatasetInfoRequest',
    decode: (bytes) => GetDatasetInfoRequest.decode(bytes),
    streaming: false,
  },
  {
    name: 'ReportTrainerStats',
    typeName: 'voxelfeed.v1.TrainerStats',
    decode: (bytes) => TrainerStats.decode(bytes),
    streaming: false,
  },
];

const identity = (bytes: Buffer): Buffer => bytes;

interface Outcome {
  readonly code: status;
  readonly details: string;
  readonly messages: number;
}

function deadline(): Date {
  return new Date(Date.now() + CALL_DEADLINE_MS);
}

function callUnary(client: Client, path: string, bytes: Buffer): Promise<Outcome> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, identity, identity, bytes, { deadline: deadline() }, (error, reply) =>
      resolve(
        error
          ? { code: error.code, details: error.details, messages: 0 }
          : { code: status.OK, details: '', messages: reply === undefined ? 0 : 1 },
      ),
    );
  });
}

function callServerStream(client: Client, path: string, bytes: Buffer): Promise<Outcome> {
  return new Promise((resolve) => {
    const call = client.makeServerStreamRequest(path, identity, identity, bytes, { deadline: deadline() });
    let messages = 0;
    call.on('data', () => {
      messages += 1;
    });
    call.on('error', (error: ServiceError) =>
      resolve({ code: error.code, details: error.details, messages }),
    );
    call.on('end', () => resolve({ code: status.OK, details: '', messages }));
  });
}

describe('requests whose bytes do not decode', () => {
  let dataset: TempDataset;
  let server: TestServer;
  let raw: Client;

  before(async () => {
    dataset = await createPhantomDataset({ series: 2, shape: [16, 24, 24], seed: 11n });
    server = await startTestServer({ data: dataset.dir });
    raw = new Client(server.address, credentials.createInsecure());
  });

  after(async () => {
    raw?.close();
    await server?.close();
    await dataset?.cleanup();
  });

  for (const method of METHODS) {
    for (const [what, bytes] of GARBAGE) {
      it(`refuses ${what} sent to ${method.name} with INVALID_ARGUMENT naming ${method.typeName}`, async () => {
        // The bytes really are undecodable: otherwise this would test nothing.
        assert.throws(() => method.decode(bytes));
        const path = `${SERVICE}/${method.name}`;
        const outcome = method.streaming
          ? await callServerStream(raw, path, bytes)
          : await callUnary(raw, path, bytes);
        assert.equal(
          outcome.code,
          status.INVALID_ARGUMENT,
          `got ${status[outcome.code]}: ${outcome.details}`,
        );
        assert.equal(outcome.messages, 0);
        for (const fragment of [
          path,
          `not a valid ${method.typeName} message`,
          'proto/voxelfeed/v1/voxelfeed.proto',
        ])
          assert.ok(outcome.details.includes(fragment), `"${outcome.details}" lacks "${fragment}"`);
      });
    }
  }

  it('decodes well-formed bytes sent through the same raw client', async () => {
    const request = GetSampleRequest.fromPartial({ seed: 1n, cropSize: [8, 8, 8], includeMask: true });
    const bytes = Buffer.from(GetSampleRequest.encode(request).finish());
    const outcome = await callUnary(raw, `${SERVICE}/GetSample`, bytes);
    assert.equal(outcome.code, status.OK, outcome.details);
    assert.equal(outcome.messages, 1);
  });

  it('still streams and samples after refusing them', async () => {
    for (const [, bytes] of GARBAGE) await callServerStream(raw, `${SERVICE}/StreamBatches`, bytes);
    const batches = await streamAll(server.client, { batchSize: 2, cropSize: [8, 8, 8], maxSteps: 2n });
    assert.equal(batches.length, 2);
    const sample = await getSample(server.client, { cropSize: [8, 8, 8] });
    assert.equal(sample.samples.length, 1);
  });
});
