import { isVoxelfeedError, VoxelfeedError, type VoxelfeedErrorCode } from '../errors.js';

/**
 * An error as plain data, to cross from a worker thread: a structured clone keeps an Error's message but
 * drops its class and `code`, which the server's error handling reads (DATA_LOSS marks a series bad; an errno
 * code such as EMFILE in the causes says the failure is momentary).
 */
export interface WorkerError {
  readonly name: string;
  readonly message: string;
  /** The VoxelfeedError code, or an errno code (ENOENT, EMFILE...), if the error had one. */
  readonly code?: string;
  readonly stack?: string;
  readonly cause?: WorkerError;
}

/** How deep a chain of causes is kept. */
const MAX_CAUSES = 8;

export function toWorkerError(error: unknown, depth = 0): WorkerError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    message: error.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(error.stack === undefined ? {} : { stack: error.stack }),
    ...(error.cause !== undefined && depth < MAX_CAUSES
      ? { cause: toWorkerError(error.cause, depth + 1) }
      : {}),
  };
}

/** The error again on this side: a VoxelfeedError with its code, or an Error with the errno code it had. */
export function fromWorkerError(data: WorkerError): Error {
  const cause = data.cause === undefined ? undefined : fromWorkerError(data.cause);
  const options = cause === undefined ? undefined : { cause };
  const error =
    data.name === 'VoxelfeedError' && data.code !== undefined
      ? new VoxelfeedError(data.code as VoxelfeedErrorCode, data.message, options)
      : Object.assign(new Error(data.message, options), data.code === undefined ? {} : { code: data.code });
  if (!isVoxelfeedError(error)) error.name = data.name;
  if (data.stack !== undefined) error.stack = data.stack;
  return error;
}
