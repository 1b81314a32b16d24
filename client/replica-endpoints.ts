import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { parseAddress, unbracketHost } from './parse-address.js';

/** One server replica as a grpc-js target of its own. */
export interface ReplicaEndpoint {
  /** What the channel dials: `host:port`, `1.2.3.4:port` or `[::1]:port`. */
  readonly target: string;
  /** The host name it was resolved from (TLS checks the certificate against it), or null for a literal. */
  readonly hostName: string | null;
}

/** Every address of a host name (A and AAAA records), as the OS resolver returns them. */
export type LookupAll = (host: string) => Promise<string[]>;

export const systemLookupAll: LookupAll = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);

/** `dns:///host:port` or `dns://resolver/host:port` as host and port; null for anything else. */
export function parseDnsTarget(target: string): { host: string; port: string } | null {
  const parsed = parseAddress(target);
  return 'problem' in parsed || !parsed.dns ? null : { host: parsed.host, port: String(parsed.port) };
}

/**
 * The replicas behind a client's addresses, in one order that every rank agrees on, for rank affinity.
 *
 * Several addresses are the replicas, in the order given (every rank is started with the same list). A single
 * host name, plain (`voxelfeed:50051`) or as a `dns:` target (a Kubernetes headless Service), stands for every
 * address it resolves to, sorted: ranks on different hosts then agree on "replica r mod K" as long as they see
 * the same set. A name that does not resolve is kept as it is: the call on it fails with UNAVAILABLE and the
 * stream resolves again before its next attempt.
 */
export async function resolveReplicas(
  addresses: readonly string[],
  lookupAll: LookupAll,
): Promise<ReplicaEndpoint[]> {
  if (addresses.length !== 1) {
    return addresses.map((address) => {
      const dns = parseDnsTarget(address);
      return dns
        ? { target: `${dns.host}:${dns.port}`, hostName: dns.host }
        : { target: address, hostName: null };
    });
  }
  const address = addresses[0]!;
  const parsed = parseAddress(address);
  if ('problem' in parsed || isIP(unbracketHost(parsed.host)) !== 0)
    return [{ target: address, hostName: null }];
  const named = { host: parsed.host, port: String(parsed.port) };
  let resolved: string[];
  try {
    resolved = await lookupAll(named.host);
  } catch {
    return [{ target: `${named.host}:${named.port}`, hostName: named.host }];
  }
  const unique = [...new Set(resolved)].sort();
  if (unique.length === 0) return [{ target: `${named.host}:${named.port}`, hostName: named.host }];
  return unique.map((ip) => ({
    target: isIP(ip) === 6 ? `[${ip}]:${named.port}` : `${ip}:${named.port}`,
    hostName: named.host,
  }));
}
