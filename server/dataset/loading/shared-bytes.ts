/**
 * Zeroed bytes in a SharedArrayBuffer of their own. Decoded volumes live in these so a crop worker thread
 * sees the very same memory (posting the array to a worker shares it; an ArrayBuffer would be copied).
 */
export function sharedBytes(length: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(length));
}

/** Whether `bytes` lies in shared memory, so a worker can read or write it without a copy. */
export function isShared(bytes: Uint8Array): boolean {
  return bytes.buffer instanceof SharedArrayBuffer;
}
