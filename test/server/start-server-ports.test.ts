import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { freeLoopbackPort } from '../../common/free-loopback-port.js';
import { defaultServeConfig, type ServeConfig } from '../../server/config/serve-config.js';
import { type Logger, silentLogger } from '../../server/log/logger.js';
import { startServer } from '../../server/main.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';

/*
 * startServer in this process, with one of its ports taken: it must reject with the one line the CLI prints
 * and leave nothing bound. In this process a port left bound stays bound (no exit releases it), so "nothing
 * bound" is checked by listening on each port afterwards.
 */

function listenOn(port: number): Promise<Server> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Listens on every port and closes again; rejects with EADDRINUSE if one is still bound. */
async function assertFree(...ports: number[]): Promise<void> {
  for (const port of ports) await close(await listenOn(port));
}

/** A silent logger that runs `onIndexed` when the catalog is built: after the ports were probed, before the binds. */
function loggerCalling(onIndexed: () => void): Logger {
  const logger: Logger = {
    debug: () => {},
    info: (_fields, message) => {
      if (message.startsWith('indexed ')) onIndexed();
    },
    warn: () => {},
    error: () => {},
    child: () => logger,
  };
  return logger;
}

describe('startServer with a port in use', () => {
  let dataset: TempDataset;
  const config = (port: number, metricsPort: number): ServeConfig =>
    defaultServeConfig({
      data: dataset.dir,
      port,
      metricsPort,
      cacheMaxBytes: 64 * 1024 * 1024,
      logLevel: 'silent',
      shutdownGraceMs: 0,
    });

  before(async () => {
    dataset = await createPhantomDataset({ series: 2, shape: [16, 32, 32] });
  });

  after(async () => {
    await dataset.cleanup();
  });

  it('rejects a metrics port in use before binding gRPC, naming --metrics-port and its fixes', async () => {
    const holder = await listenOn(0);
    const metricsPort = (holder.address() as { port: number }).port;
    const grpcPort = await freeLoopbackPort();
    try {
      await assert.rejects(startServer(config(grpcPort, metricsPort), {}, silentLogger), (error: Error) => {
        assert.equal(
          error.message,
          `cannot serve /metrics on 127.0.0.1:${metricsPort}: the port is already in use on this host; set --metrics-port (VOXELFEED_METRICS_PORT) to 0 for a free port (printed as "metrics on URL"), to off for no metrics, or to another port`,
        );
        return true;
      });
      await assertFree(grpcPort);
    } finally {
      await close(holder);
    }
  });

  it('rejects a gRPC port taken after the check, closing /metrics again', async () => {
    const [grpcPort, metricsPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
    let holder: Promise<Server> | undefined;
    try {
      await assert.rejects(
        startServer(
          config(grpcPort, metricsPort),
          {},
          loggerCalling(() => {
            holder = listenOn(grpcPort);
          }),
        ),
        new RegExp(
          `^VoxelfeedError: cannot serve gRPC on 127\\.0\\.0\\.1:${grpcPort}: the port is already in use on this host; set --port \\(VOXELFEED_PORT\\) to another port, or to 0`,
        ),
      );
      assert.ok(holder, 'the data set was indexed');
      await assertFree(metricsPort);
    } finally {
      if (holder) await close(await holder);
    }
  });

  it('rejects a metrics port taken after the check without ever binding gRPC', async () => {
    const [grpcPort, metricsPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
    let holder: Promise<Server> | undefined;
    try {
      await assert.rejects(
        startServer(
          config(grpcPort, metricsPort),
          {},
          loggerCalling(() => {
            holder = listenOn(metricsPort);
          }),
        ),
        new RegExp(
          `^VoxelfeedError: cannot serve /metrics on 127\\.0\\.0\\.1:${metricsPort}: the port is already in use`,
        ),
      );
      assert.ok(holder, 'the data set was indexed');
      await assertFree(grpcPort);
    } finally {
      if (holder) await close(await holder);
    }
  });
});
