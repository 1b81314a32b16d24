import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { healthStatus, reflectionClient } from '../support/standard-services.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

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
    for (const service of ['', 'voxelfeed.v1.VoxelFeed'])
      assert.equal(await healthStatus(server.address, service), 'SERVING', `service "${service}"`);
  });

  it('lists its services and describes StreamBatches through server reflection', async () => {
    const reflection = reflectionClient(server.address);
    try {
      const names = await reflection.listServices();
      assert.ok(names.includes('voxelfeed.v1.VoxelFeed'), names.join(', '));
      assert.ok(names.includes('grpc.health.v1.Health'), names.join(', '));

      const files = await reflection.fileDescriptors('voxelfeed.v1.VoxelFeed');
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
        'ReleaseSharedBatches',
        'ReportTrainerStats',
        'StreamBatches',
        'StreamTiles',
      ]);
      assert.equal(methods.find((method) => method.name === 'StreamTiles')?.serverStreaming, true);
    } finally {
      reflection.close();
    }
  });
});
