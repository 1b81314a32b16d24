import type { Logger } from '../../server/log/logger.js';

export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  /** The fields of the line, with those bound by `child` loggers. */
  readonly fields: Readonly<Record<string, unknown>>;
  readonly message: string;
}

/** A server Logger that keeps every line in `lines`, so a test can check what the server logged. */
export function recordingLogger(lines: LogLine[], bound: Record<string, unknown> = {}): Logger {
  const at =
    (level: LogLine['level']) =>
    (fields: object, message: string): void => {
      lines.push({ level, fields: { ...bound, ...fields }, message });
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields: object) => recordingLogger(lines, { ...bound, ...fields }),
  };
}
