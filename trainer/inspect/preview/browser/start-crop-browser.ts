import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatHostPort, listenFailure } from '@voxelfeed/common/listen-failure.js';
import type { ServeAddress } from '../serve-address.js';
import { type BrowserDeps, browserRoute } from './browser-routes.js';

export interface CropBrowser {
  /** `http://127.0.0.1:PORT/`, with the port the system chose for port 0. */
  readonly url: string;
  /** Stops listening and ends open connections. */
  close(): Promise<void>;
}

export interface CropBrowserOptions {
  readonly address: ServeAddress;
  /** false: only requests whose Host names this loopback address are answered. */
  readonly public: boolean;
  /** The one line a failed batch fetch shows on the page (a server that went away, a refused step). */
  describeError(error: unknown): string;
}

/**
 * Serves the crop browser with node:http. On loopback it answers only requests whose Host header is its own
 * address, so a web page the user visits cannot reach it through a DNS name rebound to 127.0.0.1; it
 * answers GET only and sends no CORS headers, so other origins cannot read its answers.
 */
export async function startCropBrowser(options: CropBrowserOptions, deps: BrowserDeps): Promise<CropBrowser> {
  const { host } = options.address;
  let allowedHosts: ReadonlySet<string> = new Set();
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      send(response, 502, 'text/plain; charset=utf-8', `${options.describeError(error)}\n`);
    });
  });
  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (!options.public && !allowedHosts.has((request.headers.host ?? '').toLowerCase())) {
      send(response, 421, 'text/plain; charset=utf-8', 'open the crop browser by the address it printed\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      send(response, 405, 'text/plain; charset=utf-8', 'the crop browser only answers GET\n');
      return;
    }
    const route = await browserRoute(new URL(request.url ?? '/', 'http://crop-browser'), deps);
    send(response, route.status, route.type, route.body);
  }
  server.listen(options.address.port, host);
  try {
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([error]) => Promise.reject(error)),
    ]);
  } catch (error) {
    throw listenFailure(error, {
      role: 'the crop browser',
      host,
      port: options.address.port,
      hostOption: '--serve',
      portOption: '--serve',
      portInUseFix: 'give --serve another port, or port 0 for a free one (the URL is printed)',
    });
  }
  const port = (server.address() as AddressInfo).port;
  const hostPort = formatHostPort(host, port);
  allowedHosts = new Set(
    [hostPort, ...(host.startsWith('127.') || host === '::1' ? [`localhost:${port}`] : [])].map((name) =>
      name.toLowerCase(),
    ),
  );
  return {
    url: `http://${hostPort}/`,
    close: async () => {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}

function send(response: ServerResponse, status: number, type: string, body: string | Buffer): void {
  response.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'self'; img-src 'self'; style-src 'self' 'unsafe-inline'",
    'Referrer-Policy': 'no-referrer',
  });
  response.end(body);
}
