import type { ClientUnaryCall, Metadata, ServiceError } from '@grpc/grpc-js';
import type { FeedChannels } from './feed-channels.js';
import { isRetryable, toFeedError } from './feed-error.js';
import type { FeedGrpcClient } from './feed-service.js';
import { backoffDelayMs, giveUpError, type ReconnectPolicy, sleep } from './reconnect.js';

export type UnaryInvoker<T> = (
  client: FeedGrpcClient,
  metadata: Metadata,
  callback: (error: ServiceError | null, response?: T) => void,
) => ClientUnaryCall;

/**
 * One unary call as a promise, retried like a stream when the connection fails (UNAVAILABLE, or INTERNAL for
 * a reset stream) until `policy.maxAttempts` calls in a row have failed; `policy` null makes one attempt.
 * Every failure becomes a FeedError naming the method and the address. `signal` (the client's close) ends the
 * wait between attempts with its reason.
 */
export async function callUnary<T>(
  channels: FeedChannels,
  method: string,
  policy: ReconnectPolicy | null,
  random: () => number,
  signal: AbortSignal,
  invoke: UnaryInvoker<T>,
): Promise<T> {
  const started = performance.now();
  for (let attempt = 1; ; attempt++) {
    const { client, address } = channels.next();
    try {
      return await new Promise<T>((resolve, reject) => {
        invoke(client, channels.metadata(), (error, response) => {
          if (error) reject(error);
          else if (response === undefined) reject(new Error('the call ended without a response'));
          else resolve(response);
        });
      });
    } catch (thrown) {
      const error = toFeedError(thrown, method, address);
      if (policy === null || !isRetryable(error)) throw error;
      if (attempt >= policy.maxAttempts) {
        throw giveUpError(method, channels.description, attempt, started, error);
      }
      await sleep(backoffDelayMs(attempt, policy, random), signal);
    }
  }
}
