/** The tag of a length-delimited field (Batch.padding: 12, TileBatch.padding: 14). */
export function paddingTag(field: number): number {
  return (field << 3) | 2;
}

/**
 * The message without the padding field the server writes first, if any (a tag, a one-byte length and 0 to 3
 * zero bytes); any other content there fails, so a test never strips something that is not padding.
 */
export function withoutPadding(bytes: Uint8Array, field: number): Uint8Array {
  if (bytes[0] !== paddingTag(field)) return bytes;
  const length = bytes[1]!;
  if (length > 3 || bytes.subarray(2, 2 + length).some((byte) => byte !== 0)) {
    throw new Error(`the padding field holds ${length} bytes, not 0 to 3 zero bytes`);
  }
  return bytes.subarray(2 + length);
}
