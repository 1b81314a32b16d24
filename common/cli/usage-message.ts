import { UsageError } from '../usage-error.js';

/**
 * The message of an error that means "this command line cannot run" (a UsageError, or a parse error of
 * node:util parseArgs if one ever escapes), with the hint to --help; null for any other error. The one place
 * that knows parseArgs' error codes, so every entry point answers a bad command line alike (status 2).
 */
export function usageMessage(error: unknown, command: string): string | null {
  if (error instanceof UsageError) return error.message;
  if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
    return `${error.message}\nRun ${command} --help for usage.`;
  }
  return null;
}
