import type { Metadata } from '@grpc/grpc-js';
import { GRPC_FRAME_HEADER_BYTES } from '../batches/encoded-batch.js';

/**
 * Where the client's gRPC library puts each received message in the buffer it hands to the deserializer,
 * read from the call's `user-agent`: the byte a float32 image is aligned for (image-alignment.ts).
 *
 * grpc-js (`grpc-node-js/1.x`, anywhere in the user-agent: it adds its own after any primary user-agent)
 * joins the frame header and the message into one buffer and hands the message at byte 5 of it. grpcio
 * (`grpc-python/...`) hands a bytes object holding just the message, 16-byte aligned: byte 0. So do Go's
 * grpc (grpcurl, ghz) and any other library, as far as known; a wrong guess costs that client one copy of
 * the image, never a wrong value.
 */
export function callLanding(metadata: Metadata): number {
  const userAgent = metadata.get('user-agent').join(' ');
  return userAgent.includes(GRPC_JS_USER_AGENT) ? GRPC_FRAME_HEADER_BYTES : 0;
}

const GRPC_JS_USER_AGENT = 'grpc-node-js/';
