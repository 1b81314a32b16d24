import { createServer } from 'node:net';

/**
 * A TCP port free on 127.0.0.1 a moment ago, for programs that bind a port they are given rather than port 0
 * (the trainer's rank 0 rendezvous in the demo, Prometheus's --web.listen-address in tests): a fixed one would
 * clash with another run on this machine.
 */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
