import { pino } from 'pino';

/** The slice of pino's API the server uses; tests may pass `silentLogger`. */
export interface Logger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
  child(fields: object): Logger;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** JSON lines on stderr, one object per event, so stdout stays free for command output. */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { service: 'voxelfeed' } }, pino.destination({ fd: 2, sync: false }));
}

export const silentLogger: Logger = pino({ level: 'silent' });
