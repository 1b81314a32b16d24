import { status as GrpcStatus, Metadata, type StatusObject } from '@grpc/grpc-js';
import { isVoxelfeedError } from '../errors.js';
import type { Logger } from '../log/logger.js';

/**
 * The one place where a thrown value becomes a gRPC status. Domain errors keep their code and message (they
 * are written for the caller: they name the value and the fix); aborts become CANCELLED; anything else is a
 * bug: logged with its stack here, and sent as a generic INTERNAL so no internals leak to clients.
 */
export function toGrpcStatus(error: unknown, log: Logger): StatusObject {
  if (isVoxelfeedError(error)) {
    return { code: GrpcStatus[error.code], details: error.message, metadata: new Metadata() };
  }
  if (error instanceof Error && error.name === 'AbortError') {
    return { code: GrpcStatus.CANCELLED, details: 'cancelled', metadata: new Metadata() };
  }
  log.error({ err: error }, 'unexpected error while serving a call');
  return {
    code: GrpcStatus.INTERNAL,
    details: 'internal error; the server log has the details',
    metadata: new Metadata(),
  };
}
