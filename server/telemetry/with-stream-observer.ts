import type { StreamObserver } from '../batches/stream-observer.js';
import type { Telemetry } from './telemetry.js';

/**
 * `telemetry` whose streams are also reported to `observer` (a test's recorder), after `telemetry`'s own; the
 * same telemetry when there is no observer.
 */
export function withStreamObserver(telemetry: Telemetry, observer: StreamObserver | undefined): Telemetry {
  if (observer === undefined) return telemetry;
  const own = telemetry.streams;
  return {
    streams: {
      onStreamStart: () => {
        own.onStreamStart?.();
        observer.onStreamStart?.();
      },
      onStreamEnd: (code, seconds) => {
        own.onStreamEnd?.(code, seconds);
        observer.onStreamEnd?.(code, seconds);
      },
      onBatch: (sent) => {
        own.onBatch?.(sent);
        observer.onBatch?.(sent);
      },
      onBatchesHeld: (stream, held) => {
        own.onBatchesHeld?.(stream, held);
        observer.onBatchesHeld?.(stream, held);
      },
    },
    calls: telemetry.calls,
    cache: telemetry.cache,
    volumeLoaded: (stats) => telemetry.volumeLoaded(stats),
    watch: (state) => telemetry.watch(state),
  };
}
