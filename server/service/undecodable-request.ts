import {
  status as GrpcStatus,
  Metadata,
  ResponderBuilder,
  ServerInterceptingCall,
  type ServerInterceptor,
  ServerListenerBuilder,
} from '@grpc/grpc-js';
import type { Logger } from '../log/logger.js';

const PROTO_FILE = 'proto/voxelfeed/v1/voxelfeed.proto';

/**
 * What a request deserializer returns in place of a message when the bytes do not decode. grpc-js turns a
 * throwing deserializer into INTERNAL "Error deserializing request", whatever the error says, before any
 * interceptor or handler sees the call; returning this marker instead lets `createUndecodableRequestInterceptor`
 * answer INVALID_ARGUMENT (the client sent bytes of another schema: its fault, and one it can fix).
 */
export class UndecodableRequest {
  constructor(
    /** The full protobuf name of the expected message, e.g. `voxelfeed.v1.StreamBatchesRequest`. */
    readonly typeName: string,
    /** Why the decoder refused the bytes, e.g. `invalid wire type 7 at offset 1`. */
    readonly reason: string,
  ) {}

  /** The status details for a call to `methodPath`. */
  details(methodPath: string): string {
    return (
      `the request to ${methodPath} is not a valid ${this.typeName} message (${this.reason}); ` +
      `regenerate the client from ${PROTO_FILE}`
    );
  }
}

/** `decode`, except that bytes it refuses become an `UndecodableRequest` instead of an exception. */
export function decodeOrMark<T>(
  typeName: string,
  decode: (bytes: Buffer) => T,
): (bytes: Buffer) => T | UndecodableRequest {
  return (bytes) => {
    try {
      return decode(bytes);
    } catch (error) {
      return new UndecodableRequest(typeName, error instanceof Error ? error.message : String(error));
    }
  };
}

export interface UndecodableRequestInterceptorOptions {
  readonly log: Logger;
}

/**
 * A grpc-js server interceptor that ends a call whose request is an `UndecodableRequest` with
 * INVALID_ARGUMENT; the handler never starts. Other messages pass through untouched.
 */
export function createUndecodableRequestInterceptor(
  options: UndecodableRequestInterceptorOptions,
): ServerInterceptor {
  return (method, call) => {
    let refused = false;
    const listener = new ServerListenerBuilder()
      .withOnReceiveMessage((message, next) => {
        if (!(message instanceof UndecodableRequest)) {
          next(message);
          return;
        }
        refused = true;
        options.log.warn(
          { method: method.path, peer: call.getPeer(), expected: message.typeName, reason: message.reason },
          'refused a request that does not decode',
        );
        call.sendStatus({
          code: GrpcStatus.INVALID_ARGUMENT,
          details: message.details(method.path),
          metadata: new Metadata(),
        });
      })
      // The handler would answer a half-close without a message with a second status (UNIMPLEMENTED).
      .withOnReceiveHalfClose((next) => {
        if (!refused) next();
      })
      .build();
    return new ServerInterceptingCall(
      call,
      new ResponderBuilder().withStart((next) => next(listener)).build(),
    );
  };
}
