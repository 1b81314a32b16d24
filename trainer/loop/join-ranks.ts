import { createHash } from 'node:crypto';
import type { ProcessGroup, ProcessGroupTls } from '../collective/process-group.js';
import { singleProcessGroup, startProcessGroup } from '../collective/process-group.js';
import type { FeedSecurity } from '../config/read-feed-security.js';
import type { TrainConfig } from '../config/train-config.js';

/**
 * The process group of this rank: world size 1 is the network-free group; otherwise rank 0 hosts the
 * rendezvous on --master-addr:--master-port and every rank joins within --rendezvous-timeout. `agreed` holds
 * what must be the same on every rank (model, batch, crop, seed, step limits, ...): its digest is the group's
 * fingerprint, so a rank started with other options is refused by name instead of training something else.
 * The ranks use the data server's TLS files and token: mutual TLS when --tls-ca, --tls-cert and --tls-key are
 * all given, plaintext otherwise.
 */
export async function joinRanks(
  config: TrainConfig,
  security: FeedSecurity,
  agreed: Readonly<Record<string, unknown>>,
  signal?: AbortSignal,
): Promise<ProcessGroup> {
  if (config.worldSize === 1) return singleProcessGroup();
  const tls = security.options.tls;
  const ranksTls: ProcessGroupTls | null =
    typeof tls === 'object' && tls.ca && tls.cert && tls.key
      ? { ca: Buffer.from(tls.ca), cert: Buffer.from(tls.cert), key: Buffer.from(tls.key) }
      : null;
  return startProcessGroup({
    rank: config.rank,
    worldSize: config.worldSize,
    masterAddr: config.masterAddr,
    masterPort: config.masterPort,
    job: config.job,
    fingerprint: createHash('sha256').update(JSON.stringify(agreed)).digest('hex'),
    startTimeoutMs: config.rendezvousTimeoutMs,
    peerTimeoutMs: config.peerTimeoutMs,
    ...(ranksTls === null ? {} : { tls: ranksTls }),
    ...(security.options.token === undefined ? {} : { token: security.options.token }),
    ...(signal === undefined ? {} : { signal }),
  });
}
