import type { ChannelOptions } from '@grpc/grpc-js';

/**
 * The grpc-js channel options every feed client starts from (`FeedClientOptions.channelOptions` is merged
 * over them, key by key).
 *
 * - `grpc.max_receive_message_length` 256 MiB: grpc-js refuses messages over 4 MiB by default, and a batch of
 *   8 float32 crops of 16x96x96 with masks is already about 6 MiB. The server refuses batches over
 *   `--max-batch-bytes` (64 MiB by default); 256 MiB leaves room for servers configured higher.
 * - `grpc-node.flow_control_window` 16 MiB: the HTTP/2 window per stream and per connection. With grpc-js's
 *   64 KiB the server stops after every 64 KiB to wait for a window update, and one stream delivers about 3
 *   times fewer crops per second (BENCHMARKS.md). It also bounds the bytes in flight per connection.
 * - `grpc.keepalive_time_ms` 5 min, `grpc.keepalive_timeout_ms` 20 s, `grpc.keepalive_permit_without_calls`
 *   0: a ping after 5 minutes without traffic, the connection dropped (and the stream resumed elsewhere) when
 *   no answer comes within 20 s, and no pings while no call is open. Five minutes is the shortest interval
 *   that gRPC servers accept by default: C-core, Java and Go servers (and proxies built on them) count pings
 *   more frequent than `min_recv_ping_interval_without_data` (5 min) as strikes and close the connection with
 *   GOAWAY "too_many_pings" after two, and they refuse pings without calls unless they permit them. grpc-js
 *   servers, voxelfeed's included, police neither, so with no proxy in between a trainer that wants to notice
 *   a silently vanished server sooner may pass `'grpc.keepalive_time_ms': 30_000`. A killed server process is
 *   noticed at once either way: its kernel resets the connection.
 * - `grpc.initial_reconnect_backoff_ms` / `grpc.max_reconnect_backoff_ms`: the channel's own pace of new
 *   connection attempts. `channelOptionsFor` sets them from the client's reconnect options, so a restarted
 *   server is dialled as soon as the stream's next attempt wants it (grpc-js waits 1 s, then up to 120 s).
 * - `grpc.service_config` with `round_robin` (`ROUND_ROBIN_SERVICE_CONFIG`) on every channel of a feed client:
 *   calls are spread over every address a target resolves to, and one that goes away is skipped until it is back.
 */
export const FEED_CHANNEL_OPTIONS: ChannelOptions = {
  'grpc.max_receive_message_length': 256 * 1024 * 1024,
  'grpc-node.flow_control_window': 16 * 1024 * 1024,
  'grpc.keepalive_time_ms': 5 * 60 * 1000,
  'grpc.keepalive_timeout_ms': 20 * 1000,
  'grpc.keepalive_permit_without_calls': 0,
};

/** grpc-js service config that balances calls over every address of the target, one call at a time. */
export const ROUND_ROBIN_SERVICE_CONFIG = JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] });

/** Our defaults, the channel's reconnect pace, round robin if asked, then the caller's options over all. */
export function channelOptionsFor(options: {
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly roundRobin: boolean;
  readonly overrides?: ChannelOptions;
}): ChannelOptions {
  return {
    ...FEED_CHANNEL_OPTIONS,
    'grpc.initial_reconnect_backoff_ms': options.initialBackoffMs,
    'grpc.max_reconnect_backoff_ms': options.maxBackoffMs,
    ...(options.roundRobin ? { 'grpc.service_config': ROUND_ROBIN_SERVICE_CONFIG } : {}),
    ...options.overrides,
  };
}
