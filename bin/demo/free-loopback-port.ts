import { createServer } from 'node:net';

/**
 * A TCP port free on 127.0.0.1 a moment ago, for the demo's rank 0 rendezvous: the trainer binds a port it is
 * given, so a fixed one (29500) would clash with another demo or job on this machine.
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
