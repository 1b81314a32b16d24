/**
 * One rank of a process group, as its own process, for the fault tests: all-reduces a buffer step after
 * step and prints `step N` after each; on a failure it prints `failed: <message>`, closes the group (as the
 * trainer does, so that rank 0's Abort reaches the other ranks before its connections close) and exits 3.
 * Usage: node --import tsx test/faults/collective-rank.ts RANK WORLD_SIZE MASTER_PORT PEER_TIMEOUT_MS
 */
import { type ProcessGroup, startProcessGroup } from '../../trainer/collective/process-group.js';

const [rank, worldSize, masterPort, peerTimeoutMs] = process.argv.slice(2).map(Number) as [
  number,
  number,
  number,
  number,
];
let group: ProcessGroup | null = null;
try {
  group = await startProcessGroup({
    rank,
    worldSize,
    masterAddr: '127.0.0.1',
    masterPort,
    bindHost: '127.0.0.1',
    job: 'fault-test',
    fingerprint: 'same',
    startTimeoutMs: 30_000,
    peerTimeoutMs,
  });
  const data = new Float32Array(1 << 18);
  // Bounded: the test kills or stops a rank long before this ends.
  for (let step = 0; step < 100_000; step++) {
    data.fill(rank + step);
    await group.allReduceMean(data, step);
    console.log(`step ${step}`);
  }
  await group.close();
} catch (error) {
  console.log(`failed: ${(error as Error).message}`);
  await group?.close();
  process.exit(3);
}
