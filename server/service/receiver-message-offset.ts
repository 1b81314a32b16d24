/**
 * Where a client's gRPC library puts each message it receives in memory (the byte offset modulo 4), known
 * from its `user-agent` (which gRPC libraries start with `grpc-<language>-<implementation>/<version>`), or
 * null for a library not known here. The server lays out tensors to be 4-byte aligned there, so a float32
 * image is viewed in place instead of copied (align-first-field.ts).
 *
 * - grpc-js joins the chunks of a message behind its 5-byte frame header into one new buffer and hands the
 *   message on as the view from byte 5 (its `StreamDecoder`): offset 5, so 1 modulo 4.
 * - grpcio (Python) hands each message over as a `bytes` object, whose contents CPython keeps 16-byte
 *   aligned: offset 0.
 */
export function receiverMessageOffset(userAgent: string | undefined): number | null {
  if (userAgent === undefined) return null;
  if (/(^|\s)grpc-node-js\//.test(userAgent)) return 5;
  if (/(^|\s)grpc-python\//.test(userAgent)) return 0;
  return null;
}
