import { createHash, timingSafeEqual } from 'node:crypto';
import {
  type ChannelCredentials,
  type ChannelOptions,
  credentials,
  Metadata,
  ServerCredentials,
} from '@grpc/grpc-js';
import type { ProcessGroupOptions } from './process-group.js';

/** The credentials a rank serves with: TLS as configured (mutual unless turned off), else plaintext. */
export function serverCredentials(options: Pick<ProcessGroupOptions, 'tls'>): ServerCredentials {
  const tls = options.tls;
  if (tls === undefined) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(
    tls.ca,
    [{ cert_chain: tls.cert, private_key: tls.key }],
    tls.requireClientCertificate ?? true,
  );
}

/** The credentials a rank dials its peers with (presenting its certificate when TLS is on). */
export function channelCredentials(options: Pick<ProcessGroupOptions, 'tls'>): ChannelCredentials {
  const tls = options.tls;
  if (tls === undefined) return credentials.createInsecure();
  return credentials.createSsl(tls.ca, tls.key, tls.cert);
}

/** Channel options: big messages, quick reconnects during the rendezvous, the certificate name if given. */
export function channelOptions(
  options: Pick<ProcessGroupOptions, 'tls'>,
  maxMessageBytes: number,
): ChannelOptions {
  const name = options.tls?.serverName;
  return {
    'grpc.max_receive_message_length': maxMessageBytes + 64 * 1024,
    'grpc.max_send_message_length': maxMessageBytes + 64 * 1024,
    // HTTP/2's default 64 KiB window makes a 4 MiB message wait for dozens of window updates: let a few
    // whole messages be in flight instead (the receiver still pauses its stream when it falls behind).
    'grpc-node.flow_control_window': 4 * maxMessageBytes,
    'grpc.initial_reconnect_backoff_ms': 200,
    'grpc.max_reconnect_backoff_ms': 2000,
    ...(name === undefined ? {} : { 'grpc.ssl_target_name_override': name, 'grpc.default_authority': name }),
  };
}

/** The metadata every call carries: the bearer token, if any. */
export function callMetadata(token: string | undefined): Metadata {
  const metadata = new Metadata();
  if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

/**
 * Null when `metadata` carries the group's token (or the group has none), else the one line a refused caller
 * gets. Compared as SHA-256 digests with timingSafeEqual, as the data server does, so timing tells nothing.
 */
export function tokenRefusal(metadata: Metadata, token: string | undefined): string | null {
  if (token === undefined) return null;
  const [value] = metadata.get('authorization');
  const match = typeof value === 'string' ? /^bearer +(\S+) *$/i.exec(value) : null;
  const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  if (match !== null && timingSafeEqual(sha256(match[1]!), sha256(token))) return null;
  return match === null
    ? 'this process group needs a bearer token; give every rank the same --auth-token-file'
    : "the bearer token is not this process group's; give every rank the same --auth-token-file";
}
