/**
 * The host part of a grpc-js peer string ("10.0.0.7:41233", "::ffff:10.0.0.7:41233", "::1:5000"), as a
 * rank dials it: IPv4-mapped addresses as IPv4, other IPv6 addresses in brackets.
 */
export function peerHost(peer: string): string {
  const colon = peer.lastIndexOf(':');
  let host = colon < 0 ? peer : peer.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host.startsWith('::ffff:') && host.includes('.')) host = host.slice('::ffff:'.length);
  return host.includes(':') ? `[${host}]` : host;
}
