/**
 * The process group of `voxelfeed train` ranks: what the training loop calls to average gradients and share
 * start-up state. `singleProcessGroup()` is world size 1 (no network); `startProcessGroup()` runs the
 * rendezvous on rank 0 and connects the ranks in a ring over gRPC.
 */
export interface ProcessGroup {
  readonly rank: number;
  readonly worldSize: number;
  /**
   * Every rank passes its own `data` (same length on every rank, else a CollectiveError naming the ranks and
   * lengths); on return `data` holds the element-wise mean over ranks, bit-identical on every rank: float32
   * sums in a fixed order that depends only on (world size, chunk), then one float32 division by the world
   * size (not a multiplication by 1/W). `step` labels the exchange: a rank exchanging another step is an error.
   * Calls run one at a time in call order.
   */
  allReduceMean(data: Float32Array, step: number): Promise<void>;
  /** Rank 0's bytes to every rank (others pass null); for initial weights and start-up agreement. */
  broadcast(data: Uint8Array | null, label: string): Promise<Uint8Array>;
  /** Seconds spent in allReduceMean so far (waiting plus transfer), for metrics. */
  readonly allReduceSeconds: number;
  /** Resolves never; rejects with a CollectiveError naming the failed rank as soon as any rank is lost. */
  readonly failure: Promise<never>;
  /** Ends the streams and frees the port; calls after it reject. */
  close(): Promise<void>;
}

/** TLS for the ranks' connections, PEM bytes: each rank serves with `cert` and dials with it. */
export interface ProcessGroupTls {
  /** The CA that signed every rank's certificate. */
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Whether a rank refuses a peer without a certificate `ca` signed (mutual TLS); default true. */
  readonly requireClientCertificate?: boolean;
  /**
   * The name every rank's certificate carries, checked in place of the address dialled (ranks dial each
   * other by IP, which certificates rarely hold); absent: the address itself is checked.
   */
  readonly serverName?: string;
}

export interface ProcessGroupOptions {
  readonly rank: number;
  readonly worldSize: number;
  /** Where rank 0 listens and the others find it. */
  readonly masterAddr: string;
  readonly masterPort: number;
  /** The host every rank's server binds; default 0.0.0.0 (127.0.0.1 keeps a group on one machine). */
  readonly bindHost?: string;
  /** Ranks of another job are refused. */
  readonly job: string;
  /** A digest of the options that must agree (model, batch, seed, ...): a rank with another one is refused. */
  readonly fingerprint: string;
  /** Rendezvous: all ranks within this, else an error naming the ranks that did not arrive. */
  readonly startTimeoutMs: number;
  /** A step's exchange waits at most this for a neighbour. */
  readonly peerTimeoutMs: number;
  readonly tls?: ProcessGroupTls;
  /** The bearer token every rank sends and expects (as the data server's --auth-token-file). */
  readonly token?: string;
  readonly signal?: AbortSignal;
  /** The largest message of an exchange; default 4 MiB. */
  readonly maxMessageBytes?: number;
}

export { singleProcessGroup } from './single-process-group.js';
export { startProcessGroup } from './start-process-group.js';
