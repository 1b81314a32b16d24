import { VoxelfeedError } from './voxelfeed-error.js';

/**
 * A command line that cannot run as given: the message lists every problem with its fix. The CLI prints the
 * message alone (no stack) and exits with status 2. It is an INVALID_ARGUMENT like any other bad input.
 */
export class UsageError extends VoxelfeedError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
    this.name = 'UsageError';
  }
}
