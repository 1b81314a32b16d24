import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { type ListenEndpoint, listenFailure } from './listen-failure.js';

/**
 * Serves `GET /metrics` in the Prometheus text format on the endpoint's host and port (port 0 picks one);
 * resolves with the bound port, or rejects with one line naming the address, the option and the fix (a port
 * in use, a host that is not this machine's).
 */
export async function serveMetrics(
  registry: Registry,
  endpoint: ListenEndpoint,
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || (request.url ?? '/').split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('voxelfeed serves metrics at /metrics\n');
      return;
    }
    registry.metrics().then(
      (body) => response.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(listenFailure(error, endpoint)));
    server.listen(endpoint.port, endpoint.host, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : endpoint.port;
  return {
    server,
    port: bound,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
