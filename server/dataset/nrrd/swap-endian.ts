import { runInSlabs } from '../run-in-slabs.js';

/** Values per slab: about 1 ms of swapping, so big-endian volumes do not stall the event loop. */
const VALUES_PER_SLAB = 1 << 19;

/**
 * Reverses the byte order of every `width`-byte value of `bytes` in place. `bytes` must be aligned to
 * `width` (its own buffer, as the readers allocate it) and hold a whole number of values.
 */
export async function swapEndianInPlace(bytes: Uint8Array, width: 1 | 2 | 4 | 8): Promise<void> {
  if (width === 1) return;
  if (width === 2) {
    const values = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
    await runInSlabs(values.length, VALUES_PER_SLAB, (start, end) => {
      for (let i = start; i < end; i++) {
        const v = values[i]!;
        values[i] = ((v & 0xff) << 8) | (v >>> 8);
      }
    });
    return;
  }
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  await runInSlabs(words.length, VALUES_PER_SLAB, (start, end) => {
    for (let i = start; i < end; i++) {
      const v = words[i]!;
      words[i] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
    }
    if (width === 8) {
      // Each 8-byte value is now two byte-reversed halves in the old order: swap the halves too
      // (slabs hold an even number of words, so no pair straddles two slabs).
      for (let i = start; i + 1 < end; i += 2) {
        const low = words[i]!;
        words[i] = words[i + 1]!;
        words[i + 1] = low;
      }
    }
  });
}
