/**
 * A command line that cannot run as given: the message lists every problem with its fix. The CLI prints the
 * message alone (no stack) and exits with status 2.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
