/** What `--backend` may ask for: `auto` picks the fastest that works (select-backend.ts). */
export const BACKEND_PREFERENCES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;

export type BackendPreference = (typeof BACKEND_PREFERENCES)[number];

export function isBackendPreference(name: string): name is BackendPreference {
  return (BACKEND_PREFERENCES as readonly string[]).includes(name);
}
