import { VoxelfeedError } from './voxelfeed-error.js';

/** A port a program listens on, and how its user sets it, so a failed listen can say what to change. */
export interface ListenEndpoint {
  /** What listens there, for messages: `gRPC`, `/metrics`. */
  readonly role: string;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** The option and variable that set the host: `--host (VOXELFEED_HOST)`. */
  readonly hostOption: string;
  /** The option and variable that set the port: `--port (VOXELFEED_PORT)`. */
  readonly portOption: string;
  /**
   * What to do when the port is taken, starting with a verb: `set --port (VOXELFEED_PORT) to another port, or
   * to 0 for a free one (printed as "listening on HOST:PORT")`.
   */
  readonly portInUseFix: string;
}

/** `host:port`, with an IPv6 host in brackets (`[::1]:50051`), as clients and URLs want it. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * A failed listen as one line that names the address, the option behind it and the fix, e.g. `cannot serve
 * /metrics on 127.0.0.1:9464: the port is already in use on this host; set --metrics-port ...`.
 * `error` is Node's listen error (its `code`), or grpc-js's bind error, which keeps only the message
 * (`No address added ... [listen EADDRINUSE: address already in use 127.0.0.1:50051]`). `heldBy` is another
 * endpoint of the same program already on that port, when the two were given the same one.
 */
export function listenFailure(
  error: unknown,
  endpoint: ListenEndpoint,
  heldBy?: ListenEndpoint,
): VoxelfeedError {
  const where = `cannot serve ${endpoint.role} on ${formatHostPort(endpoint.host, endpoint.port)}`;
  return new VoxelfeedError('FAILED_PRECONDITION', `${where}: ${reasonAndFix(error, endpoint, heldBy)}`, {
    cause: error,
  });
}

function reasonAndFix(error: unknown, endpoint: ListenEndpoint, heldBy: ListenEndpoint | undefined): string {
  const code = errorCode(error);
  switch (code) {
    case 'EADDRINUSE':
      return heldBy === undefined
        ? `the port is already in use on this host; ${endpoint.portInUseFix}`
        : `${heldBy.portOption} gives that port to ${heldBy.role} already; ${endpoint.portInUseFix}`;
    case 'EADDRNOTAVAIL':
      return `${endpoint.host} is not an address of this host; set ${endpoint.hostOption} to one of its addresses (127.0.0.1: this host only, 0.0.0.0: every interface)`;
    case 'EACCES':
      return `permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE); ${endpoint.portInUseFix}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return `the host name ${endpoint.host} does not resolve (${code}); set ${endpoint.hostOption} to an address of this host`;
    default:
      return `${messageOf(error)}; check ${endpoint.hostOption} and ${endpoint.portOption}`;
  }
}

/** Node's errno code, or the first one named in the message (grpc-js passes on only the message). */
function errorCode(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return /\b(E[A-Z_]{3,})\b/.exec(messageOf(error))?.[1] ?? null;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
