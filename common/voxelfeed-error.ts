/**
 * The one domain error of voxelfeed. Every layer throws it with a code that says what went
 * wrong; the gRPC service maps the code to a status in exactly one place.
 * This module imports nothing, so the pure core may use it.
 */
export type VoxelfeedErrorCode =
  | 'INVALID_ARGUMENT' // a request or option is wrong: the message names the field and the fix
  | 'NOT_FOUND' // an unknown data set or series
  | 'FAILED_PRECONDITION' // valid on its own but impossible with this data set
  | 'OUT_OF_RANGE' // past the end of an epoch
  | 'RESOURCE_EXHAUSTED' // a configured limit was reached
  | 'UNAVAILABLE' // the server is draining
  | 'DATA_LOSS' // a file is corrupt, truncated or unreadable
  | 'INTERNAL'; // a bug

export class VoxelfeedError extends Error {
  readonly code: VoxelfeedErrorCode;

  constructor(code: VoxelfeedErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VoxelfeedError';
    this.code = code;
  }
}

export function isVoxelfeedError(value: unknown): value is VoxelfeedError {
  return value instanceof VoxelfeedError;
}
