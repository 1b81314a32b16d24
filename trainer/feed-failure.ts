import { type FeedError, isFeedError } from '@voxelfeed/client';
import { VoxelfeedError, type VoxelfeedErrorCode } from '@voxelfeed/common/voxelfeed-error.js';

/** Status names the domain error shares with gRPC; others (UNAUTHENTICATED, ...) exit like any failure. */
const SHARED_CODES: ReadonlySet<string> = new Set<VoxelfeedErrorCode>([
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'FAILED_PRECONDITION',
  'OUT_OF_RANGE',
  'RESOURCE_EXHAUSTED',
  'UNAVAILABLE',
  'DATA_LOSS',
]);

/**
 * The feed error that ended training, as the one line the CLI prints (the full error goes to the debug log):
 * UNAVAILABLE, which the client throws once it has given up reconnecting, becomes "cannot reach the server
 * at ADDRESS (last connection error) after N attempts in a row" with the fix; any other status is the
 * server's answer, whose message already names the call, the field and the fix. null when `error` is no
 * FeedError.
 */
export function feedFailure(
  error: unknown,
  servers: readonly string[],
  attempts: number,
  /** The option that names the server(s), as the message shows it. */
  serverOption = '--server (VOXELFEED_SERVER)',
): VoxelfeedError | null {
  if (!isFeedError(error)) return null;
  if (error.code !== 'UNAVAILABLE') {
    const code = SHARED_CODES.has(error.code) ? (error.code as VoxelfeedErrorCode) : 'INTERNAL';
    return new VoxelfeedError(code, error.message, { cause: error });
  }
  const which = servers.length === 1 ? 'the server' : 'any of the servers';
  return new VoxelfeedError(
    'UNAVAILABLE',
    `cannot reach ${which} at ${servers.join(', ')} (${lastConnectionError(error)}) after ${attempts} attempts in a row; start voxelfeed serve there or point ${serverOption} at a running one, check that the TLS options match the server's, or wait longer with --reconnect-attempts (VOXELFEED_RECONNECT_ATTEMPTS)`,
    { cause: error },
  );
}

/**
 * The innermost reason in grpc-js's UNAVAILABLE details, which nest one "Last error:" per load-balancing
 * layer: `round_robin: No connection established. Last error: ... Last error: Error: connect ECONNREFUSED
 * 127.0.0.1:50051. Resolution note: ` -> `connect ECONNREFUSED 127.0.0.1:50051`.
 */
function lastConnectionError(error: FeedError): string {
  const innermost = error.details.split('Last error: ').pop() ?? error.details;
  const reason = innermost
    .replace(/^Error: /, '')
    .replace(/\.?\s*Resolution note:[\s\S]*$/, '')
    .trim();
  return reason === '' ? 'no details' : reason;
}
