import type { ChannelOptions } from '@grpc/grpc-js';
import { FeedError } from './feed-error.js';
import { parseAddress } from './parse-address.js';
import { DEFAULT_RECONNECT, type ReconnectPolicy } from './reconnect.js';

export interface FeedClientOptions {
  /**
   * `host:port` of one server, or a DNS name standing for several replicas (`dns:///voxelfeed.svc:50051`, a
   * Kubernetes headless Service): calls are spread round robin over every address it resolves to.
   */
  address?: string;
  /** Several replicas, `host:port` each: calls are spread over them round robin. Give `address` or this. */
  addresses?: readonly string[];
  /**
   * Rank r's streams go to replica r mod K (of `addresses` in the order given, or of the addresses a DNS name
   * resolves to, sorted), and move on to the next replica when a call fails; each replica's cache then holds
   * only the series of its own ranks. Other calls are still spread round robin. Default false.
   */
  rankAffinity?: boolean;
  /** TLS: `true` for the system's CAs, or PEM buffers (`cert` with `key` for mutual TLS). Off by default. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer } | boolean;
  /** Sent with every call as `authorization: Bearer <token>` (servers started with `--auth-token-file`). */
  token?: string;
  /**
   * Batches received ahead of the consumer, per stream: 1..64, default 4. The stream is paused while they
   * wait; behind it grpc-js still buffers up to 16 messages (its fixed high-water mark) plus up to the HTTP/2
   * window in bytes, so a stream holds at most about (prefetch + 16) batches + 16 MiB. On the same-host path
   * the batches waiting are the server's (its file holds 2) and the client holds only what they point to, so a
   * prefetch above 2 adds nothing there.
   */
  prefetch?: number;
  /** Retry of calls that fail for want of a connection; defaults 100 ms, 5 s, 20. */
  reconnect?: { initialBackoffMs?: number; maxBackoffMs?: number; maxAttempts?: number };
  /** grpc-js channel options merged over `FEED_CHANNEL_OPTIONS`. */
  channelOptions?: ChannelOptions;
}

export interface ResolvedFeedClientOptions {
  readonly addresses: readonly string[];
  readonly rankAffinity: boolean;
  readonly tls: { ca?: Buffer; cert?: Buffer; key?: Buffer } | null;
  readonly token: string | null;
  readonly prefetch: number;
  readonly reconnect: ReconnectPolicy;
  readonly channelOptions: ChannelOptions;
}

export const DEFAULT_PREFETCH = 4;
export const MAX_PREFETCH = 64;

/** Fills the defaults and checks every option, reporting all problems at once as INVALID_ARGUMENT. */
export function resolveFeedClientOptions(options: FeedClientOptions): ResolvedFeedClientOptions {
  const problems: string[] = [];
  const addresses = resolveAddresses(options, problems);
  const prefetch = options.prefetch ?? DEFAULT_PREFETCH;
  if (!Number.isInteger(prefetch) || prefetch < 1 || prefetch > MAX_PREFETCH) {
    problems.push(`prefetch is ${prefetch}; use an integer from 1 to ${MAX_PREFETCH} batches`);
  }
  const reconnect: ReconnectPolicy = {
    initialBackoffMs: options.reconnect?.initialBackoffMs ?? DEFAULT_RECONNECT.initialBackoffMs,
    maxBackoffMs: options.reconnect?.maxBackoffMs ?? DEFAULT_RECONNECT.maxBackoffMs,
    maxAttempts: options.reconnect?.maxAttempts ?? DEFAULT_RECONNECT.maxAttempts,
  };
  for (const field of ['initialBackoffMs', 'maxBackoffMs'] as const) {
    const value = reconnect[field];
    if (!Number.isInteger(value) || value < 1) {
      problems.push(`reconnect.${field} is ${value}; use a whole number of milliseconds >= 1`);
    }
  }
  if (reconnect.maxBackoffMs < reconnect.initialBackoffMs) {
    problems.push(
      `reconnect.maxBackoffMs (${reconnect.maxBackoffMs}) is below reconnect.initialBackoffMs (${reconnect.initialBackoffMs}); raise it`,
    );
  }
  if (!Number.isInteger(reconnect.maxAttempts) || reconnect.maxAttempts < 1) {
    problems.push(`reconnect.maxAttempts is ${reconnect.maxAttempts}; use an integer >= 1 (1: no retry)`);
  }
  const tls = options.tls === true ? {} : options.tls || null;
  if (tls !== null && (tls.cert === undefined) !== (tls.key === undefined)) {
    problems.push(
      'tls has a cert without a key or a key without a cert; give both for mutual TLS, or neither',
    );
  }
  if (options.token !== undefined && (options.token === '' || /[\r\n]/.test(options.token))) {
    problems.push('token is empty or holds a line break; pass the bare token, without "Bearer "');
  }
  if (problems.length > 0) {
    const details = problems.join('; ');
    throw new FeedError('INVALID_ARGUMENT', details, `invalid feed client options: ${details}`);
  }
  return {
    addresses,
    rankAffinity: options.rankAffinity ?? false,
    tls,
    token: options.token ?? null,
    prefetch,
    reconnect,
    channelOptions: options.channelOptions ?? {},
  };
}

function resolveAddresses(options: FeedClientOptions, problems: string[]): string[] {
  if (options.address !== undefined && options.addresses !== undefined) {
    problems.push('both address and addresses are set; give one server as address or replicas as addresses');
    return [];
  }
  const addresses = options.addresses ?? (options.address === undefined ? [] : [options.address]);
  if (addresses.length === 0) {
    problems.push('no server address; set address to host:port (e.g. 127.0.0.1:50051)');
  }
  for (const address of addresses) {
    if (/,/.test(address)) {
      problems.push(`address "${address}" is not a host:port; list each replica separately in addresses`);
      continue;
    }
    const parsed = parseAddress(address);
    if ('problem' in parsed) problems.push(`address "${address}": ${parsed.problem}`);
  }
  return [...addresses];
}
