import { credentials, status as GrpcStatus, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { FEED_CHANNEL_OPTIONS } from '../../client/channel-options.js';
import {
  type Batch,
  type GetSampleRequest,
  type StreamBatchesRequest,
  VoxelFeedClient,
} from '../../gen/voxelfeed/v1/voxelfeed.js';
import { type LatencyPercentiles, latencyPercentiles } from './latency-percentiles.js';
import type { LoadCall, LoadOptions } from './load-options.js';
import { sampleRequests, streamRequest } from './load-requests.js';

export interface LoadResult {
  readonly tool: 'voxelfeed';
  readonly call: LoadCall;
  readonly target: string;
  readonly concurrency: number;
  /** Calls asked for (--total) and the time limit (--duration). */
  readonly total: number;
  readonly durationSeconds: number;
  readonly batchSize: number;
  readonly steps: number;
  readonly crop: readonly number[];
  /** Calls that ended, well or badly; `ok` of them with status OK. */
  readonly calls: number;
  readonly ok: number;
  /** Failed calls by gRPC status name, e.g. { UNAVAILABLE: 3 }. */
  readonly errors: Readonly<Record<string, number>>;
  /** The first message seen for each status name in `errors`. */
  readonly errorMessages: Readonly<Record<string, string>>;
  /** Calls cancelled because --duration ran out (their batches so far are counted). */
  readonly interrupted: number;
  readonly batches: number;
  readonly crops: number;
  /** Image + mask tensor bytes received. */
  readonly bytes: number;
  readonly seconds: number;
  /** What one latency figure times: a unary call, or one batch of a stream. */
  readonly latencyUnit: 'call' | 'batch';
  readonly latencyMs: LatencyPercentiles | null;
}

/** A failed call's status: the ServiceError of a unary call, or the final status of a stream. */
type Failure = Pick<StatusObject, 'code' | 'details'>;
type Outcome =
  | { readonly kind: 'ok' }
  | { readonly kind: 'interrupted' }
  | { readonly kind: 'error'; readonly error: Failure };

/** What the calls of one run add up to; the workers share it. */
class Tally {
  readonly latenciesMs: number[] = [];
  batches = 0;
  crops = 0;
  bytes = 0;

  add(batch: Batch, latencyMs: number): void {
    this.latenciesMs.push(latencyMs);
    this.batches += 1;
    this.crops += batch.samples.length;
    this.bytes += batch.image.length + batch.mask.length;
  }
}

interface Cancellable {
  cancel(): void;
}

/**
 * Runs one bounded load against `target` with the built-in client (the generated grpc-js client, one
 * channel, our client library's channel options): `concurrency` workers each make one call at a time until
 * `total` calls have been started or `durationSeconds` has passed; calls still open then are cancelled.
 * Calls are single attempts (no retry), so every failure shows up under its status code, as in ghz.
 */
export async function runLoad(options: LoadOptions, target: string): Promise<LoadResult> {
  const client = new VoxelFeedClient(target, credentials.createInsecure(), FEED_CHANNEL_OPTIONS);
  const samples = sampleRequests(options);
  const stream = streamRequest(options);
  const tally = new Tally();
  const open = new Set<Cancellable>();
  const errors: Record<string, number> = {};
  const errorMessages: Record<string, string> = {};
  let deadlinePassed = false;
  let started = 0;
  let ok = 0;
  let interrupted = 0;
  const timer = setTimeout(() => {
    deadlinePassed = true;
    for (const call of open) call.cancel();
  }, options.durationSeconds * 1000);
  const isInterrupted = (error: Failure) => deadlinePassed && error.code === GrpcStatus.CANCELLED;

  const worker = async () => {
    while (!deadlinePassed && started < options.total) {
      const index = started++;
      const outcome =
        options.call === 'get-sample'
          ? await sampleCall(client, samples[index % samples.length]!, tally, open, isInterrupted)
          : await streamCall(client, stream, tally, open, isInterrupted);
      if (outcome.kind === 'ok') ok += 1;
      else if (outcome.kind === 'interrupted') interrupted += 1;
      else {
        const name = GrpcStatus[outcome.error.code] ?? `CODE_${outcome.error.code}`;
        errors[name] = (errors[name] ?? 0) + 1;
        errorMessages[name] ??= outcome.error.details;
      }
    }
  };

  const begun = performance.now();
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    clearTimeout(timer);
    client.close();
  }
  const failed = Object.values(errors).reduce((sum, count) => sum + count, 0);
  return {
    tool: 'voxelfeed',
    call: options.call,
    target,
    concurrency: options.concurrency,
    total: options.total,
    durationSeconds: options.durationSeconds,
    batchSize: options.call === 'get-sample' ? 1 : options.batchSize,
    steps: options.call === 'get-sample' ? 1 : options.steps,
    crop: [...options.crop],
    calls: ok + failed,
    ok,
    errors,
    errorMessages,
    interrupted,
    batches: tally.batches,
    crops: tally.crops,
    bytes: tally.bytes,
    seconds: (performance.now() - begun) / 1000,
    latencyUnit: options.call === 'get-sample' ? 'call' : 'batch',
    latencyMs: latencyPercentiles(tally.latenciesMs),
  };
}

function sampleCall(
  client: VoxelFeedClient,
  request: GetSampleRequest,
  tally: Tally,
  open: Set<Cancellable>,
  isInterrupted: (error: Failure) => boolean,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const begun = performance.now();
    const call = client.getSample(request, (error: ServiceError | null, batch?: Batch) => {
      open.delete(call);
      if (error) resolve(isInterrupted(error) ? { kind: 'interrupted' } : { kind: 'error', error });
      else {
        tally.add(batch!, performance.now() - begun);
        resolve({ kind: 'ok' });
      }
    });
    open.add(call);
  });
}

/** One whole stream; each batch's latency is the time since the previous batch (or since the call began). */
function streamCall(
  client: VoxelFeedClient,
  request: StreamBatchesRequest,
  tally: Tally,
  open: Set<Cancellable>,
  isInterrupted: (error: Failure) => boolean,
): Promise<Outcome> {
  return new Promise((resolve) => {
    let last = performance.now();
    const call = client.streamBatches(request);
    open.add(call);
    const settle = (outcome: Outcome) => {
      open.delete(call);
      resolve(outcome);
    };
    call.on('data', (batch: Batch) => {
      const now = performance.now();
      tally.add(batch, now - last);
      last = now;
    });
    // Every call gets one 'status'. A failed one also gets 'error' (handled through its status); a
    // successful one ends with 'end', which may come after 'status' while batches are still buffered.
    let final: StatusObject | null = null;
    let ended = false;
    const settleIfDone = () => {
      if (final === null) return;
      if (final.code !== GrpcStatus.OK) {
        settle(isInterrupted(final) ? { kind: 'interrupted' } : { kind: 'error', error: final });
      } else if (ended) {
        settle({ kind: 'ok' });
      }
    };
    call.on('error', () => {});
    call.on('end', () => {
      ended = true;
      settleIfDone();
    });
    call.on('status', (status: StatusObject) => {
      final = status;
      settleIfDone();
    });
  });
}
