import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import protobuf from 'protobufjs';
import { GetSampleRequest, StreamBatchesRequest } from '../../gen/voxelfeed/v1/voxelfeed.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { reflectionClient } from '../support/standard-services.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const run = promisify(execFile);

/** Debian's python3: python3-protobuf installs for it, not for a python3 of pyenv or a venv. */
const PYTHON = '/usr/bin/python3';

/**
 * Loads a FileDescriptorSet (argv[1]) into a fresh descriptor_pool, whose C++ or upb core checks every
 * descriptor as protoc does (map entries included), then parses each JSON text of argv[2] ({"type", "json"}
 * pairs) into its message with json_format and prints the serialized messages as hex, one JSON line.
 */
const CLIENT = `
import json, sys
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

descriptor_set = descriptor_pb2.FileDescriptorSet()
with open(sys.argv[1], 'rb') as handle:
    descriptor_set.ParseFromString(handle.read())
pool = descriptor_pool.DescriptorPool()
pending = list(descriptor_set.file)
added = set()
while pending:
    ready = [f for f in pending if all(d in added for d in f.dependency)]
    if not ready:
        sys.exit('unresolved imports: ' + ', '.join(f.name for f in pending))
    for f in ready:
        pool.Add(f)
        added.add(f.name)
        pending.remove(f)

def message_class(name):
    descriptor = pool.FindMessageTypeByName(name)
    if hasattr(message_factory, 'GetMessageClass'):
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)

out = []
for case in json.loads(sys.argv[2]):
    message = json_format.Parse(case['json'], message_class(case['type'])())
    out.append(message.SerializeToString().hex())
print(json.dumps({'files': sorted(added), 'messages': out}))
`;

/** Frames serialized FileDescriptorProtos as a FileDescriptorSet (field 1), byte for byte as served. */
function descriptorSet(files: readonly Uint8Array[]): Uint8Array {
  const writer = new BinaryWriter();
  for (const file of files) writer.tag(1, WireType.LengthDelimited).bytes(file);
  return writer.finish();
}

/**
 * An independent client: Python's protobuf runtime builds its descriptor pool from what server reflection
 * sends and reads request JSON as ghz and grpcurl do (both spellings of a field: the .proto name and the
 * lowerCamelCase json name).
 */
describe('server reflection read by an independent protobuf runtime (python3-protobuf)', () => {
  let dataset: TempDataset;
  let server: TestServer;
  let temp: string;
  /** The FileDescriptorSet of what reflection sends for each service, by service name. */
  const setFiles = new Map<string, string>();

  before(async () => {
    try {
      await run(PYTHON, ['-c', 'import google.protobuf']);
    } catch (error) {
      throw new Error(
        `${PYTHON} with google.protobuf checks the served descriptors; apt-get install python3-protobuf (${String(error)})`,
      );
    }
    temp = await mkdtemp(path.join(tmpdir(), 'voxelfeed-reflection-py-'));
    dataset = await createPhantomDataset({ series: 2, shape: [16, 32, 32] });
    server = await startTestServer({ data: dataset.dir });
    const reflection = reflectionClient(server.address);
    try {
      for (const service of ['voxelfeed.v1.VoxelFeed', 'grpc.health.v1.Health']) {
        const file = path.join(temp, `${service}.binpb`);
        await writeFile(file, descriptorSet(await reflection.fileDescriptors(service)));
        setFiles.set(service, file);
      }
    } finally {
      reflection.close();
    }
  });

  after(async () => {
    await server?.close();
    await dataset?.cleanup();
    if (temp) await rm(temp, { recursive: true, force: true });
  });

  /** What Python makes of `cases` with the descriptors served for `service`. */
  async function parse(
    service: string,
    cases: ReadonlyArray<{ type: string; json: string }>,
  ): Promise<{ files: string[]; messages: Buffer[] }> {
    try {
      const { stdout } = await run(PYTHON, ['-c', CLIENT, setFiles.get(service)!, JSON.stringify(cases)]);
      const reply = JSON.parse(stdout) as { files: string[]; messages: string[] };
      return { files: reply.files, messages: reply.messages.map((hex) => Buffer.from(hex, 'hex')) };
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? '';
      throw new Error(
        `python3-protobuf refused the served descriptors or the JSON:\n${stderr || String(error)}`,
      );
    }
  }

  it('loads the health service descriptors into a descriptor pool and reads a map of statuses', async () => {
    const json = '{"statuses":{"":{"status":"SERVING"},"voxelfeed.v1.VoxelFeed":{"status":"NOT_SERVING"}}}';
    const { files, messages } = await parse('grpc.health.v1.Health', [
      { type: 'grpc.health.v1.HealthListResponse', json },
    ]);
    assert.deepEqual(files, ['health/v1/health.proto']);
    const HealthListResponse = protobuf
      .loadSync(healthProtoPath)
      .lookupType('grpc.health.v1.HealthListResponse');
    assert.deepEqual(
      HealthListResponse.toObject(HealthListResponse.decode(messages[0]!), { enums: String }),
      {
        statuses: { '': { status: 'SERVING' }, 'voxelfeed.v1.VoxelFeed': { status: 'NOT_SERVING' } },
      },
    );
  });

  it('loads the VoxelFeed descriptors into a descriptor pool under the .proto file name', async () => {
    const { files } = await parse('voxelfeed.v1.VoxelFeed', []);
    assert.deepEqual(files, ['voxelfeed/v1/voxelfeed.proto']);
  });

  it('reads GetSampleRequest JSON with the .proto names and with the json names alike', async () => {
    const { messages } = await parse('voxelfeed.v1.VoxelFeed', [
      {
        type: 'voxelfeed.v1.GetSampleRequest',
        json: '{"seed":1,"index":3,"crop_size":[16,96,96],"include_mask":true}',
      },
      {
        type: 'voxelfeed.v1.GetSampleRequest',
        json: '{"seed":"1","index":"3","cropSize":[16,96,96],"includeMask":true}',
      },
    ]);
    assert.equal(messages.length, 2);
    for (const bytes of messages) {
      const request = GetSampleRequest.decode(bytes);
      assert.deepEqual(request.cropSize, [16, 96, 96]);
      assert.equal(request.includeMask, true);
      assert.equal(request.seed, 1n);
      assert.equal(request.index, 3n);
    }
    assert.deepEqual(messages[0], messages[1]);
  });

  it('reads nested StreamBatchesRequest options in both spellings', async () => {
    const { messages } = await parse('voxelfeed.v1.VoxelFeed', [
      {
        type: 'voxelfeed.v1.StreamBatchesRequest',
        json: '{"batch_size":2,"max_steps":"1","sampling":{"negatives_per_epoch":64}}',
      },
      {
        type: 'voxelfeed.v1.StreamBatchesRequest',
        json: '{"batchSize":2,"maxSteps":"1","sampling":{"negativesPerEpoch":64}}',
      },
    ]);
    for (const bytes of messages) {
      const request = StreamBatchesRequest.decode(bytes);
      assert.equal(request.batchSize, 2);
      assert.equal(request.maxSteps, 1n);
      assert.equal(request.sampling?.negativesPerEpoch, 64);
    }
  });
});
