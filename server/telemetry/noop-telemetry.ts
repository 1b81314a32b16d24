import type { Telemetry } from './telemetry.js';

const nothing = (): void => {};

/**
 * Telemetry that reports nothing: the server without `--metrics-port`, and tests that do not look at metrics.
 * No registry and no series; each report is one call of an empty function.
 */
export const NOOP_TELEMETRY: Telemetry = Object.freeze({
  streams: Object.freeze({}),
  calls: Object.freeze({ started: nothing, received: nothing, sent: nothing, handled: nothing }),
  cache: Object.freeze({ onOutcome: nothing, onEvict: nothing, onOversize: nothing }),
  volumeLoaded: nothing,
  watch: nothing,
});
