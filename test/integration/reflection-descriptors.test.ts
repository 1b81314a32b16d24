import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { clone, fromBinary, type JsonObject, toJson } from '@bufbuild/protobuf';
import {
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
} from '@bufbuild/protobuf/wkt';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { type ReflectionVersion, reflectionClient } from '../support/standard-services.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const run = promisify(execFile);

const PROTO_ROOT = fileURLToPath(new URL('../../proto/', import.meta.url));
const HEALTH_ROOT = path.resolve(path.dirname(healthProtoPath), '../..');

/** What protoc makes of `file` under `includeDir`, imports included, by file name. */
async function protocDescriptors(
  includeDir: string,
  file: string,
  outDir: string,
): Promise<Map<string, FileDescriptorProto>> {
  const out = path.join(outDir, `${file.replaceAll('/', '_')}.pb`);
  try {
    await run('protoc', [`-I${includeDir}`, '--include_imports', `--descriptor_set_out=${out}`, file]);
  } catch (error) {
    throw new Error(
      `protoc compiles the .proto files this test compares against; apt-get install protobuf-compiler (${String(error)})`,
    );
  }
  const set = fromBinary(FileDescriptorSetSchema, await readFile(out));
  return new Map(set.file.map((entry) => [entry.name, entry]));
}

/** A descriptor as JSON, without source_code_info (comments and spans, which reflection need not carry). */
function comparable(file: FileDescriptorProto): JsonObject {
  const copy = clone(FileDescriptorProtoSchema, file);
  copy.sourceCodeInfo = undefined;
  return toJson(FileDescriptorProtoSchema, copy) as JsonObject;
}

/**
 * The client knows nothing of voxelfeed's .proto: it rebuilds the FileDescriptorProtos from the bytes that
 * server reflection sends, as grpcurl and ghz do, and decodes them with @bufbuild/protobuf (not protobufjs,
 * which the server's reflection library uses).
 */
describe('server reflection descriptors', () => {
  let dataset: TempDataset;
  let server: TestServer;
  let temp: string;
  const expected = new Map<string, FileDescriptorProto>();

  before(async () => {
    temp = await mkdtemp(path.join(tmpdir(), 'voxelfeed-reflection-'));
    for (const [root, file] of [
      [PROTO_ROOT, 'voxelfeed/v1/voxelfeed.proto'],
      [HEALTH_ROOT, 'health/v1/health.proto'],
    ] as const) {
      for (const [name, descriptor] of await protocDescriptors(root, file, temp))
        expected.set(name, descriptor);
    }
    dataset = await createPhantomDataset({ series: 2, shape: [16, 32, 32] });
    server = await startTestServer({ data: dataset.dir });
  });

  after(async () => {
    await server?.close();
    await dataset?.cleanup();
    if (temp) await rm(temp, { recursive: true, force: true });
  });

  async function served(version: ReflectionVersion, symbol: string): Promise<FileDescriptorProto[]> {
    const reflection = reflectionClient(server.address, undefined, undefined, version);
    try {
      return (await reflection.fileDescriptors(symbol)).map((bytes) =>
        fromBinary(FileDescriptorProtoSchema, bytes),
      );
    } finally {
      reflection.close();
    }
  }

  for (const version of ['v1', 'v1alpha'] as const) {
    for (const [symbol, file] of [
      ['voxelfeed.v1.VoxelFeed', 'voxelfeed/v1/voxelfeed.proto'],
      ['grpc.health.v1.Health', 'health/v1/health.proto'],
    ] as const) {
      it(`serves ${file} for ${symbol} (${version}) exactly as protoc compiles it`, async () => {
        const files = await served(version, symbol);
        assert.deepEqual(
          files.map((entry) => entry.name),
          [file],
          'the file that defines the symbol, under its own name, and no other (it imports nothing)',
        );
        const want = expected.get(file);
        assert.ok(want, `protoc produced no ${file}`);
        assert.deepEqual(comparable(files[0]!), comparable(want));
      });
    }

    it(`finds voxelfeed/v1/voxelfeed.proto by file name and by a message name (${version})`, async () => {
      const reflection = reflectionClient(server.address, undefined, undefined, version);
      try {
        const byName = await reflection.fileDescriptorsByName('voxelfeed/v1/voxelfeed.proto');
        const byMessage = await reflection.fileDescriptors('voxelfeed.v1.GetSampleRequest');
        for (const bytes of [byName, byMessage]) {
          const [file] = bytes.map((entry) => fromBinary(FileDescriptorProtoSchema, entry));
          assert.deepEqual(comparable(file!), comparable(expected.get('voxelfeed/v1/voxelfeed.proto')!));
        }
      } finally {
        reflection.close();
      }
    });
  }

  it('keeps the .proto field names, their json names and the map entry names that ghz and grpcurl check', async () => {
    const [voxelfeed] = await served('v1', 'voxelfeed.v1.VoxelFeed');
    const request = voxelfeed?.messageType.find((message) => message.name === 'GetSampleRequest');
    const cropSize = request?.field.find((field) => field.number === 5);
    assert.equal(cropSize?.name, 'crop_size');
    assert.equal(cropSize?.jsonName, 'cropSize');

    const [health] = await served('v1', 'grpc.health.v1.Health');
    const list = health?.messageType.find((message) => message.name === 'HealthListResponse');
    const statuses = list?.field.find((field) => field.name === 'statuses');
    assert.equal(statuses?.typeName, '.grpc.health.v1.HealthListResponse.StatusesEntry');
    assert.deepEqual(
      list?.nestedType.map((entry) => [entry.name, entry.options?.mapEntry]),
      [['StatusesEntry', true]],
    );
  });

  it('lists the VoxelFeed and Health services', async () => {
    const reflection = reflectionClient(server.address);
    try {
      const names = await reflection.listServices();
      for (const name of ['voxelfeed.v1.VoxelFeed', 'grpc.health.v1.Health'])
        assert.ok(names.includes(name), names.join(', '));
    } finally {
      reflection.close();
    }
  });
});
