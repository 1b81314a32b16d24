import type { OptionKind } from '@voxelfeed/common/cli/option-kind.js';
import { MAX_PORT } from '@voxelfeed/common/cli/option-kinds.js';

/** Where the crop browser listens. */
export interface ServeAddress {
  readonly host: string;
  /** 0: a free port (the URL printed says which). */
  readonly port: number;
}

/**
 * `HOST:PORT`, `[IPv6]:PORT`, or `PORT` alone for 127.0.0.1; port 0..65535 (0: a free one). Whether the
 * host may be other than loopback is the command's check (`isLoopbackHost`), not the syntax's.
 */
export function serveAddress(): OptionKind<ServeAddress> {
  return {
    placeholder: 'HOST:PORT',
    example: '127.0.0.1:8080',
    parse: (text) => {
      const match = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):)?(\d{1,5})$/.exec(text.trim());
      const port = Number(match?.[2]);
      if (match === null || port > MAX_PORT) {
        return { problem: `give HOST:PORT (or PORT alone for 127.0.0.1), port 0 to ${MAX_PORT}` };
      }
      const host = match[1] === undefined ? '127.0.0.1' : match[1].replace(/^\[(.*)\]$/, '$1');
      return { value: { host, port } };
    },
    format: ({ host, port }) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`),
  };
}

/** 127.0.0.0/8, ::1 and localhost: addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return (
    host === 'localhost' ||
    host === '::1' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) ||
    /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/i.test(host)
  );
}
