import { ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js';
import { GRPC_FRAME_HEADER_BYTES } from '../batches/encoded-batch.js';

export interface PreFramedInterceptorOptions {
  /** Methods (`/voxelfeed.v1.VoxelFeed/StreamBatches`) whose handlers write messages already framed. */
  readonly paths: readonly string[];
  /** A call of one of `paths` on which gRPC frames each message into a copy after all (see below). */
  readonly onCopied?: (path: string) => void;
}

/**
 * grpc-js frames every message it sends into a new buffer (`serializeMessage`: allocate length + 5 bytes,
 * copy the message behind the header). For a batch that is a second buffer of several MiB per message, alive
 * until the connection has taken it and then garbage until V8's next full collection: with many streams of
 * large batches, that garbage and not the data decided the server's memory. The handlers of `paths` write
 * batches already framed (EncodedBatch's `framed`: a buffer of the server's batch memory for streams, one of
 * its own for GetSample), and this interceptor makes gRPC send that buffer as it is. The other methods answer
 * a few hundred bytes at most, and grpc-js frames those as usual.
 *
 * It relies on how grpc-js 1.x builds a call: the first server interceptor receives the call that frames
 * messages (`BaseServerInterceptingCall`, whose `serializeMessage(value)` returns the bytes to write), so this
 * must come first in the server's `interceptors`, or after interceptors that pass that call on as they got it
 * (call-telemetry-interceptor.ts). Where the call has no such method, nothing is changed: the
 * service's serializer strips the header and gRPC frames a copy as before, correct but using more memory, and
 * `onCopied` says so.
 */
export function createPreFramedInterceptor(options: PreFramedInterceptorOptions): ServerInterceptor {
  return (method, call) => {
    if (options.paths.includes(method.path)) {
      const framing = call as unknown as { serializeMessage?: unknown };
      if (typeof framing.serializeMessage === 'function') {
        framing.serializeMessage = sendAsFramed;
      } else {
        options.onCopied?.(method.path);
      }
    }
    return new ServerInterceptingCall(call);
  };
}

/** The message itself, after checking that it is one framed message (a handler writing anything else is a bug). */
function sendAsFramed(framed: Buffer): Buffer {
  if (
    !Buffer.isBuffer(framed) ||
    framed.length < GRPC_FRAME_HEADER_BYTES ||
    framed[0] !== 0 ||
    framed.readUInt32BE(1) !== framed.length - GRPC_FRAME_HEADER_BYTES
  ) {
    // grpc-js ends the call with INTERNAL "Error serializing response".
    throw new TypeError('a pre-framed method wrote a message without its gRPC frame header');
  }
  return framed;
}
