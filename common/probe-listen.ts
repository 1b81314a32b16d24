import { createServer, type Server } from 'node:net';
import { type ListenEndpoint, listenFailure } from './listen-failure.js';

/**
 * Checks that every endpoint can be listened on, before a program spends seconds or minutes getting ready
 * (indexing a data set, building a model) and before it serves anything: each is bound in turn, the earlier
 * ones still held (so two endpoints given the same port clash here, as they would later), then all are closed.
 * Rejects with `listenFailure`'s one line for the first that fails. Port 0 is probed too, which catches a host
 * that is not an address of this machine. A port taken between this check and the real bind still fails
 * there; the caller maps that failure the same way.
 */
export async function probeListen(endpoints: readonly ListenEndpoint[]): Promise<void> {
  const held: Array<{ readonly endpoint: ListenEndpoint; readonly server: Server }> = [];
  try {
    for (const endpoint of endpoints) {
      const server = createServer();
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host: endpoint.host, port: endpoint.port, exclusive: true }, () => {
            server.off('error', reject);
            resolve();
          });
        });
      } catch (error) {
        const heldBy = held.find(
          (other) => endpoint.port !== 0 && other.endpoint.port === endpoint.port,
        )?.endpoint;
        throw listenFailure(error, endpoint, heldBy);
      }
      held.push({ endpoint, server });
    }
  } finally {
    await Promise.all(
      held.map(({ server }) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
  }
}
