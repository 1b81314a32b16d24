import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  credentials,
  type GrpcObject,
  loadPackageDefinition,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import type protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const require = createRequire(import.meta.url);
const reflectionProtoRoot = path.join(
  path.dirname(require.resolve('@grpc/reflection/package.json')),
  'build',
  'proto',
);

function serviceClient(pkg: GrpcObject, dotted: string): ServiceClientConstructor {
  let node: unknown = pkg;
  for (const part of dotted.split('.')) node = (node as Record<string, unknown>)[part];
  return node as ServiceClientConstructor;
}

/**
 * These clients know nothing of voxelfeed's .proto: they speak the standard health and reflection protocols,
 * as grpcurl, ghz and Kubernetes probes do.
 */
describe('standard gRPC services', () => {
  let dataset: TempDataset;
  let server: TestServer;

  before(async () => {
    dataset = await createPhantomDataset({ series: 2, shape: [16, 32, 32] });
    server = await startTestServer({ data: dataset.dir });
  });

  after(async () => {
    await server?.close();
    await dataset?.cleanup();
  });

  it('answers grpc.health.v1.Health/Check with SERVING for the server and the VoxelFeed service', async () => {
    const definition = loadSync('health/v1/health.proto', {
      includeDirs: [path.resolve(path.dirname(healthProtoPath), '../..')],
      enums: String,
    });
    const Health = serviceClient(loadPackageDefinition(definition), 'grpc.health.v1.Health');
    const client = new Health(server.address, credentials.createInsecure());
    try {
      for (const service of ['', 'voxelfeed.v1.VoxelFeed']) {
        const reply = await new Promise<{ status: string }>((resolve, reject) =>
          client['Check']!({ service }, (error: Error | null, response: { status: string }) =>
            error ? reject(error) : resolve(response),
          ),
        );
        assert.equal(reply.status, 'SERVING', `service "${service}"`);
      }
    } finally {
      client.close();
    }
  });

  it('lists its services and describes StreamBatches through server reflection', async () => {
    const definition = loadSync('grpc/reflection/v1/reflection.proto', {
      includeDirs: [reflectionProtoRoot],
    });
    const Reflection = serviceClient(
      loadPackageDefinition(definition),
      'grpc.reflection.v1.ServerReflection',
    );
    const client = new Reflection(server.address, credentials.createInsecure());
    const ask = (request: object) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const call = client['ServerReflectionInfo']!();
        call.on('data', (response: Record<string, unknown>) => {
          resolve(response);
          call.end();
        });
        call.on('error', reject);
        call.write(request);
      });
    try {
      const listed = await ask({ listServices: '' });
      const names = (listed['listServicesResponse'] as { service: Array<{ name: string }> }).service.map(
        (s) => s.name,
      );
      assert.ok(names.includes('voxelfeed.v1.VoxelFeed'), names.join(', '));
      assert.ok(names.includes('grpc.health.v1.Health'), names.join(', '));

      const described = await ask({ fileContainingSymbol: 'voxelfeed.v1.VoxelFeed' });
      const files = (described['fileDescriptorResponse'] as { fileDescriptorProto: Buffer[] })
        .fileDescriptorProto;
      const decoded = files.map(
        (bytes) =>
          descriptor.FileDescriptorProto.decode(bytes) as unknown as protobuf.Message & {
            name: string;
            service: Array<{ name: string; method: Array<{ name: string; serverStreaming?: boolean }> }>;
          },
      );
      const service = decoded.flatMap((entry) => entry.service).find((entry) => entry.name === 'VoxelFeed');
      assert.ok(service, `no VoxelFeed service in ${decoded.map((entry) => entry.name).join(', ')}`);
      const methods = service.method;
      const stream = methods.find((method) => method.name === 'StreamBatches');
      assert.equal(stream?.serverStreaming, true);
      assert.deepEqual(methods.map((method) => method.name).sort(), [
        'GetDatasetInfo',
        'GetSample',
        'ReportTrainerStats',
        'StreamBatches',
      ]);
    } finally {
      client.close();
    }
  });
});
