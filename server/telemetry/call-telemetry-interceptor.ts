import type {
  ServerInterceptingCall,
  ServerInterceptingCallInterface,
  ServerInterceptor,
} from '@grpc/grpc-js';
import { grpcCodeName } from './grpc-code-name.js';
import { grpcMethodLabels } from './grpc-method-labels.js';
import type { CallTelemetry, GrpcMethodLabels } from './telemetry.js';

type Listener = Parameters<ServerInterceptingCallInterface['start']>[0];

const CANCELED = grpcCodeName(1);

/**
 * A grpc-js server interceptor that reports every call to `calls`: its start, each message received and
 * sent, and its end with the status code and the seconds it took, labelled as the standard gRPC server
 * series are (`grpc_type`, `grpc_service`, `grpc_method`, `grpc_code`). A call that ends without a status
 * (the client cancelled, its connection dropped) ends `Canceled`.
 *
 * It must be the server's first interceptor, so that it sees the call grpc-js itself answers: grpc-js hands
 * the first interceptor the call that writes to the connection, and the statuses that grpc-js sends on its own
 * (a request over the size limit, an expired deadline, a request that does not decode) go only through that
 * call's `sendStatus`, as do those of the later interceptors (a refused token, an undecodable request) and of
 * the handlers. So it wraps that call's methods in place rather than wrapping the call, and returns the same
 * call: the next interceptor (pre-framed-messages.ts) then sees it too, as it must.
 */
export function createCallTelemetryInterceptor(calls: CallTelemetry): ServerInterceptor {
  const labelsByPath = new Map<string, GrpcMethodLabels>();
  return (method, call) => {
    let labels = labelsByPath.get(method.path);
    if (labels === undefined) {
      labels = grpcMethodLabels(method);
      labelsByPath.set(method.path, labels);
    }
    const of = labels;
    const started = performance.now();
    calls.started(of);
    let handled = false;
    const end = (code: string) => {
      if (handled) return;
      handled = true;
      calls.handled(of, code, (performance.now() - started) / 1000);
    };
    const start = call.start.bind(call);
    const sendMessage = call.sendMessage.bind(call);
    const sendStatus = call.sendStatus.bind(call);
    call.start = (listener: Listener) =>
      start({
        onReceiveMetadata: (metadata) => listener.onReceiveMetadata(metadata),
        onReceiveMessage: (message) => {
          calls.received(of);
          listener.onReceiveMessage(message);
        },
        onReceiveHalfClose: () => listener.onReceiveHalfClose(),
        // Also after a status: grpc-js reports every call's end as a cancel. The status came first then.
        onCancel: () => {
          end(CANCELED);
          listener.onCancel();
        },
      });
    call.sendMessage = (message, callback) =>
      // Counted once written: a message still queued when the call is cancelled was never sent.
      sendMessage(message, () => {
        calls.sent(of);
        callback();
      });
    call.sendStatus = (status) => {
      end(grpcCodeName(status.code));
      sendStatus(status);
    };
    // grpc-js's type asks for a ServerInterceptingCall, but grpc-js only ever uses the interface of what an
    // interceptor returns (the next interceptor receives it as such, and so do the handlers).
    return call as ServerInterceptingCall;
  };
}
