import { VoxelfeedError } from '../errors.js';

export interface StreamAdmissionLimits {
  /** Streams open at once, over all clients. */
  readonly maxStreams: number;
  /** Streams open at once from one client host (all its ranks and connections together). */
  readonly maxStreamsPerPeer: number;
}

/**
 * Counts the open streams (StreamBatches and StreamTiles calls alike), in total and per client host, and
 * refuses one over either limit. Each open stream holds up to `prefetchBatches + maxUnflushedBatches` messages
 * in memory and keeps a share of the CPU busy, so the count bounds both; the per-host limit keeps one runaway job from taking every slot.
 * `admit` and the release it returns are the only ways the counts change, so a caller that releases in a
 * `finally` cannot leak a slot, however the stream ends.
 */
export class StreamAdmission {
  private open = 0;
  private readonly perPeer = new Map<string, number>();

  constructor(private readonly limits: StreamAdmissionLimits) {}

  /** Streams open now, in total. */
  get openStreams(): number {
    return this.open;
  }

  /** Streams open now from one host (as `peerHost` names it). */
  openStreamsOf(host: string): number {
    return this.perPeer.get(host) ?? 0;
  }

  /**
   * Takes a slot for a stream from `peer` (grpc-js's `call.getPeer()`, e.g. `10.0.0.5:43122`), or throws
   * RESOURCE_EXHAUSTED naming the limit, the count and the flag that raises it. Returns the release, which
   * frees the slot once however often it is called.
   */
  admit(peer: string): () => void {
    const host = peerHost(peer);
    const ofHost = this.openStreamsOf(host);
    if (this.open >= this.limits.maxStreams) {
      throw new VoxelfeedError(
        'RESOURCE_EXHAUSTED',
        `the server has ${this.open} open streams, its limit (--max-streams ${this.limits.maxStreams}); retry later, spread the ranks over more replicas, or raise --max-streams (VOXELFEED_MAX_STREAMS)`,
      );
    }
    if (ofHost >= this.limits.maxStreamsPerPeer) {
      throw new VoxelfeedError(
        'RESOURCE_EXHAUSTED',
        `client ${host} has ${ofHost} open streams, the limit per client host (--max-streams-per-peer ${this.limits.maxStreamsPerPeer}); close streams it no longer reads, or raise --max-streams-per-peer (VOXELFEED_MAX_STREAMS_PER_PEER)`,
      );
    }
    this.open += 1;
    this.perPeer.set(host, ofHost + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open -= 1;
      const left = this.openStreamsOf(host) - 1;
      if (left === 0) this.perPeer.delete(host);
      else this.perPeer.set(host, left);
    };
  }
}

/**
 * The client host of a grpc-js peer string, without the port: `10.0.0.5:43122` -> `10.0.0.5`,
 * `::1:43122` or `[::1]:43122` -> `::1`, and an IPv4 address seen on a dual-stack socket
 * (`::ffff:10.0.0.5:43122`) -> `10.0.0.5`, so one host counts once however it connects. grpc-js writes a TCP
 * peer as `address:port` (IPv6 without brackets), so the last `:digits` is always the port; a peer without
 * one (`unknown`) is kept whole.
 */
export function peerHost(peer: string): string {
  const bracketed = /^\[([^\]]*)\](?::\d+)?$/.exec(peer);
  const port = /:\d+$/.exec(peer);
  const host = bracketed ? bracketed[1]! : port ? peer.slice(0, port.index) : peer;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  return mapped ? mapped[1]! : host;
}
