#!/usr/bin/env node
// Docker HEALTHCHECK for the voxelfeed server: asks grpc.health.v1.Health/Check and exits 0 on SERVING, 1
// otherwise (not serving, unreachable, no answer in time). Plain JavaScript, so it starts without tsx.
//
// Usage: node deploy/docker/grpc-health-check.mjs [HOST:PORT] [SERVICE]
//   HOST:PORT  default 127.0.0.1:$VOXELFEED_PORT, else 127.0.0.1:50051
//   SERVICE    default "" (the whole server); "voxelfeed.v1.VoxelFeed" asks for the feed service
import { credentials, loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath } from 'grpc-health-check';

const TIMEOUT_MS = 3000;
const address = process.argv[2] ?? `127.0.0.1:${process.env.VOXELFEED_PORT || 50051}`;
const service = process.argv[3] ?? '';

const definition = loadPackageDefinition(loadSync(protoPath, { keepCase: true, enums: String }));
const Health = definition.grpc.health.v1.Health;
const client = new Health(address, credentials.createInsecure());

client.check({ service }, { deadline: Date.now() + TIMEOUT_MS }, (error, response) => {
  client.close();
  if (error) {
    console.error(`health check of ${address}: ${error.message}`);
    process.exit(1);
  }
  const status = response?.status;
  if (status !== 'SERVING') console.error(`health check of ${address}: ${status}`);
  process.exit(status === 'SERVING' ? 0 : 1);
});
