/**
 * Zeroed bytes in a SharedArrayBuffer of their own. Decoded volumes live in these so a crop worker thread
 * sees the very same memory (posting the array to a worker shares it; an ArrayBuffer would be copied).
 */
export function sharedBytes(length: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(length));
}
