import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';

/** The name of a gRPC status code, as the server's errors and the gRPC docs spell it. */
export type FeedErrorCode = keyof typeof GrpcStatus;

/**
 * The one error class of the client. `code` is the gRPC status name (`'INVALID_ARGUMENT'`, `'UNAVAILABLE'`,
 * ...), `details` is the server's message unchanged (it names the field, the value and the fix), and the
 * message says which call failed against which address. The original `ServiceError`, if any, is the `cause`.
 */
export class FeedError extends Error {
  readonly code: FeedErrorCode;
  readonly details: string;

  constructor(code: FeedErrorCode, details: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FeedError';
    this.code = code;
    this.details = details;
  }

  /** The numeric gRPC status (`status.UNAVAILABLE` is 14). */
  get status(): GrpcStatus {
    return GrpcStatus[this.code];
  }
}

export function isFeedError(value: unknown): value is FeedError {
  return value instanceof FeedError;
}

/** A grpc-js `ServiceError` (or anything a call threw) as a FeedError naming the call and the address. */
export function toFeedError(error: unknown, method: string, address: string): FeedError {
  if (isFeedError(error)) return error;
  if (isServiceError(error)) {
    const code = statusName(error.code);
    return new FeedError(
      code,
      error.details,
      `${method} on ${address} failed with ${code}: ${error.details}`,
      {
        cause: error,
      },
    );
  }
  const text = error instanceof Error ? error.message : String(error);
  return new FeedError('UNKNOWN', text, `${method} on ${address} failed: ${text}`, { cause: error });
}

/**
 * Whether a failed call is worth repeating on a fresh connection: the server is unreachable, draining or
 * restarting (UNAVAILABLE), or the connection broke under the call, which grpc-js may report as INTERNAL with
 * a "RST_STREAM" or "Connection dropped" detail. Every other status is an answer: repeating the same request
 * to a deterministic server would get the same one.
 */
export function isRetryable(error: FeedError): boolean {
  if (error.code === 'UNAVAILABLE') return true;
  return error.code === 'INTERNAL' && /RST_STREAM|Connection dropped|ECONNRESET/.test(error.details);
}

function isServiceError(value: unknown): value is ServiceError {
  return (
    value instanceof Error &&
    typeof (value as Partial<ServiceError>).code === 'number' &&
    typeof (value as Partial<ServiceError>).details === 'string'
  );
}

function statusName(code: number): FeedErrorCode {
  const name = GrpcStatus[code];
  return typeof name === 'string' ? (name as FeedErrorCode) : 'UNKNOWN';
}
