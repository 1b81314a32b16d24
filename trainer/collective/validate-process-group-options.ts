import { CollectiveError } from './collective-error.js';
import type { ProcessGroupOptions } from './process-group.js';

/** Every problem of the options at once, each naming the value, the limit and the fix. */
export function validateProcessGroupOptions(options: ProcessGroupOptions): void {
  const problems: string[] = [];
  const { rank, worldSize } = options;
  if (!Number.isInteger(worldSize) || worldSize < 1) {
    problems.push(`world size ${worldSize} is not a whole number of at least 1; set --world-size`);
  } else if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) {
    problems.push(`rank ${rank} is outside 0 to ${worldSize - 1} (world size ${worldSize}); set --rank`);
  }
  if (!Number.isInteger(options.masterPort) || options.masterPort < 1 || options.masterPort > 65535) {
    problems.push(`master port ${options.masterPort} is outside 1 to 65535; set --master-port`);
  }
  if (options.masterAddr.trim() === '') problems.push('the master address is empty; set --master-addr');
  for (const [name, value, flag] of [
    ['start-up timeout', options.startTimeoutMs, '--rendezvous-timeout'],
    ['peer timeout', options.peerTimeoutMs, '--peer-timeout'],
  ] as const) {
    if (!Number.isFinite(value) || value <= 0)
      problems.push(`the ${name} ${value} ms is not positive; set ${flag}`);
  }
  const maxMessageBytes = options.maxMessageBytes;
  if (maxMessageBytes !== undefined && (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 4)) {
    problems.push(`the largest message ${maxMessageBytes} bytes is below 4 (one float32)`);
  }
  if (problems.length > 0) {
    throw new CollectiveError('INVALID_ARGUMENT', null, `process group: ${problems.join('; ')}`);
  }
}
