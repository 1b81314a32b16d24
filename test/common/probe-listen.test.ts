import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { formatHostPort, type ListenEndpoint, listenFailure } from '../../common/listen-failure.js';
import { probeListen } from '../../common/probe-listen.js';
import { isVoxelfeedError } from '../../common/voxelfeed-error.js';

/** An address of TEST-NET-1 (RFC 5737): never one of this host's, so listening on it fails at once. */
const NOT_THIS_HOST = '192.0.2.1';

function endpoint(port: number, host = '127.0.0.1'): ListenEndpoint {
  return {
    role: 'gRPC',
    host,
    port,
    hostOption: '--host (VOXELFEED_HOST)',
    portOption: '--port (VOXELFEED_PORT)',
    portInUseFix: 'set --port (VOXELFEED_PORT) to 0',
  };
}

async function listen(port = 0): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  assert.ok(typeof address === 'object' && address !== null);
  return { server, port: address.port };
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('probeListen', () => {
  let held: { server: Server; port: number };

  before(async () => {
    held = await listen();
  });

  after(async () => {
    await close(held.server);
  });

  it('rejects a port in use with one line naming the address, the option and the fix', async () => {
    await assert.rejects(probeListen([endpoint(held.port)]), (error: unknown) => {
      assert.ok(isVoxelfeedError(error));
      assert.equal(error.code, 'FAILED_PRECONDITION');
      assert.equal(
        error.message,
        `cannot serve gRPC on 127.0.0.1:${held.port}: the port is already in use on this host; set --port (VOXELFEED_PORT) to 0`,
      );
      return true;
    });
  });

  it('names the other endpoint when two are given the same port', async () => {
    const { server, port } = await listen();
    await close(server);
    const metrics: ListenEndpoint = {
      ...endpoint(port),
      role: '/metrics',
      portInUseFix: 'set --metrics-port 0',
    };
    await assert.rejects(
      probeListen([endpoint(port), metrics]),
      new RegExp(
        `^VoxelfeedError: cannot serve /metrics on 127\\.0\\.0\\.1:${port}: --port \\(VOXELFEED_PORT\\) gives that port to gRPC already; set --metrics-port 0$`,
      ),
    );
  });

  it('rejects an address of another host, naming the host option', async () => {
    await assert.rejects(
      probeListen([endpoint(0, NOT_THIS_HOST)]),
      /^VoxelfeedError: cannot serve gRPC on 192\.0\.2\.1:0: 192\.0\.2\.1 is not an address of this host; set --host \(VOXELFEED_HOST\) to one of its addresses/,
    );
  });

  it('leaves every port it probed free again, the ones that failed after it too', async () => {
    const a = await listen();
    const b = await listen();
    await Promise.all([close(a.server), close(b.server)]);
    await probeListen([endpoint(a.port), endpoint(b.port)]);
    await assert.rejects(probeListen([endpoint(a.port), endpoint(held.port)]), /already in use/);
    // Both bind again at once: the probe closed what it held, on success and on failure.
    const again = [await listen(a.port), await listen(b.port)];
    await Promise.all(again.map(({ server }) => close(server)));
  });
});

describe('listenFailure', () => {
  it("reads the errno code from grpc-js's bind error, which keeps only the message", () => {
    const grpcError = new Error(
      'No address added out of total 1 resolved errors: [listen EADDRINUSE: address already in use 127.0.0.1:50051]',
    );
    assert.match(listenFailure(grpcError, endpoint(50051)).message, /the port is already in use/);
  });

  it('explains a port below 1024 refused to a user without the privilege', () => {
    const error = Object.assign(new Error('listen EACCES: permission denied 0.0.0.0:80'), { code: 'EACCES' });
    assert.equal(
      listenFailure(error, endpoint(80, '0.0.0.0')).message,
      'cannot serve gRPC on 0.0.0.0:80: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE); set --port (VOXELFEED_PORT) to 0',
    );
  });

  it('keeps the reason of any other failure and names both options', () => {
    assert.equal(
      listenFailure(new Error('something else'), endpoint(1234)).message,
      'cannot serve gRPC on 127.0.0.1:1234: something else; check --host (VOXELFEED_HOST) and --port (VOXELFEED_PORT)',
    );
  });

  it('writes an IPv6 host in brackets', () => {
    assert.equal(formatHostPort('::1', 50051), '[::1]:50051');
    assert.equal(formatHostPort('127.0.0.1', 50051), '127.0.0.1:50051');
  });
});
