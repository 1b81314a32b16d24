const TRUE_WORDS = ['1', 'true', 'yes', 'on'];
const FALSE_WORDS = ['', '0', 'false', 'no', 'off'];

/**
 * A yes/no environment variable (`VOXELFEED_STRICT=1`): unset or a false word is false; anything that is
 * neither a true nor a false word adds a problem naming the variable and the words to use, and counts as false.
 */
export function envFlag(env: NodeJS.ProcessEnv, variable: string, problems: string[]): boolean {
  const value = env[variable];
  if (value === undefined) return false;
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.includes(word)) return true;
  if (!FALSE_WORDS.includes(word)) {
    problems.push(`${variable}=${value}: use 1 or 0 (true or false)`);
  }
  return false;
}
