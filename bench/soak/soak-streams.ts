import { createFeedClient, type FeedClient, isFeedError } from '../../client/index.js';
import type { Shape3 } from '../../server/sampling/types.js';

/** What one stream has received so far; the sampler reads these while the stream runs. */
export interface StreamCounters {
  readonly rank: number;
  batches: number;
  crops: number;
  /** Encoded message bytes. */
  bytes: number;
  epochs: number;
  /** Reconnect attempts of the client (a dropped connection, a refused call). */
  retries: number;
  /** The error that ended this stream early, or null. */
  error: string | null;
}

export interface SoakStreamOptions {
  readonly address: string;
  readonly streams: number;
  readonly batchSize: number;
  readonly crop: Shape3;
  /** Negatives per epoch on top of one item per nodule: sets the epoch length. */
  readonly negativesPerEpoch: number;
}

export interface SoakStreams {
  readonly counters: readonly StreamCounters[];
  /** Resolves when every stream has stopped (after `signal` aborts, or each on its own error). */
  readonly done: Promise<void>;
}

/**
 * `streams` trainer-like clients, ranks 0..streams-1 of one world, each with its own client (its own
 * connection, as separate trainer processes have), streaming epoch after epoch through the client library
 * until `signal` aborts. A stream that throws records the error and stops: a soak with errors has failed,
 * and retrying here would hide it.
 */
export function startSoakStreams(options: SoakStreamOptions, signal: AbortSignal): SoakStreams {
  const counters: StreamCounters[] = Array.from({ length: options.streams }, (_, rank) => ({
    rank,
    batches: 0,
    crops: 0,
    bytes: 0,
    epochs: 0,
    retries: 0,
    error: null,
  }));
  const done = Promise.all(
    counters.map(async (stream) => {
      const client = createFeedClient({ address: options.address });
      try {
        await keepStreaming(client, stream, options, signal);
      } finally {
        client.close();
      }
    }),
  ).then(() => undefined);
  return { counters, done };
}

async function keepStreaming(
  client: FeedClient,
  stream: StreamCounters,
  options: SoakStreamOptions,
  signal: AbortSignal,
): Promise<void> {
  for (let epoch = 0; !signal.aborted; epoch += 1) {
    try {
      const batches = client.streamBatches(
        {
          seed: 1,
          epoch,
          rank: stream.rank,
          worldSize: options.streams,
          batchSize: options.batchSize,
          cropSize: options.crop,
          sampling: { negativesPerEpoch: options.negativesPerEpoch },
          includeMask: true,
        },
        {
          signal,
          onRetry: () => {
            stream.retries += 1;
          },
        },
      );
      for await (const batch of batches) {
        stream.batches += 1;
        stream.crops += batch.samples.length;
        stream.bytes += batch.wireBytes;
      }
      stream.epochs += 1;
    } catch (error) {
      if (signal.aborted) return;
      stream.error = isFeedError(error) ? `${error.code}: ${error.message}` : String(error);
      return;
    }
  }
}
