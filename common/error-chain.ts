/** One error of a `cause` chain, as plain fields for a JSON log line. */
export interface ErrorLink {
  readonly name: string;
  readonly message: string;
  /** `code` and `details` where the error has them (Node's errno code, a gRPC status). */
  readonly code?: string | number;
  readonly details?: string;
  readonly stack?: string;
}

/**
 * An error and its causes, outermost first, for a debug log line: what the one-line message printed for the
 * user leaves out. Stops after `maxDepth` links, so a cyclic chain cannot loop.
 */
export function errorChain(error: unknown, maxDepth = 8): ErrorLink[] {
  const links: ErrorLink[] = [];
  let current: unknown = error;
  while (current !== undefined && current !== null && links.length < maxDepth) {
    if (!(current instanceof Error)) {
      links.push({ name: typeof current, message: String(current) });
      break;
    }
    const { code, details } = current as { code?: unknown; details?: unknown };
    links.push({
      name: current.name,
      message: current.message,
      ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
      ...(typeof details === 'string' ? { details } : {}),
      ...(current.stack === undefined ? {} : { stack: current.stack }),
    });
    current = current.cause;
  }
  return links;
}
