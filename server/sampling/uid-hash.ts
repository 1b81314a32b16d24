/**
 * A well-mixed 64-bit hash of a series uid, simple to reproduce in any language (the holdout split depends on
 * it, and clients may compute the split themselves):
 *
 *   h = FNV-1a 64 over the UTF-8 bytes of the uid (offset basis 0xcbf29ce484222325, prime 0x100000001b3)
 *   h ^= h >> 30; h *= 0xbf58476d1ce4e5b9; h ^= h >> 27; h *= 0x94d049bb133111eb; h ^= h >> 31  (mod 2^64)
 *
 * The second line is SplitMix64's finaliser. FNV-1a alone leaves strings that differ only in their last
 * characters (sequential ids, uids with a shared prefix) close in the high bits, which skews any split that
 * reads the hash as a fraction; the finaliser spreads every input bit over all 64 output bits.
 *
 * In Python: `h = 0xcbf29ce484222325; for b in uid.encode(): h = ((h ^ b) * 0x100000001b3) & M`, then the
 * finaliser with `& M` after each product, `M = 2**64 - 1`; the fraction is `(h >> 11) / 2**53`.
 *
 * The arithmetic runs on two uint32 words: BigInt costs about six times as much per uid.
 */

const encoder = new TextEncoder();
const TWO_POW_32 = 0x1_0000_0000;
const TWO_POW_53 = 9_007_199_254_740_992;

/** The 64-bit hash of `uid` as [high word, low word], both uint32. */
export function uidHashWords(uid: string): [hi: number, lo: number] {
  let hi = 0xcbf2_9ce4;
  let lo = 0x8422_2325;
  for (const byte of encoder.encode(uid)) {
    lo = (lo ^ byte) >>> 0;
    // h * 0x100000001b3 = h * 0x1b3 + (h << 40). lo * 0x1b3 < 2^41 is exact in a double.
    const low = lo * 0x1b3;
    hi = (Math.imul(hi, 0x1b3) + Math.floor(low / TWO_POW_32) + (lo << 8)) >>> 0;
    lo = low >>> 0;
  }
  [hi, lo] = multiply64(hi ^ (hi >>> 30), (lo ^ ((lo >>> 30) | (hi << 2))) >>> 0, 0xbf58_476d, 0x1ce4_e5b9);
  [hi, lo] = multiply64(hi ^ (hi >>> 27), (lo ^ ((lo >>> 27) | (hi << 5))) >>> 0, 0x94d0_49bb, 0x1331_11eb);
  return [(hi ^ (hi >>> 31)) >>> 0, (lo ^ ((lo >>> 31) | (hi << 1))) >>> 0];
}

/** The uid's hash read as a fraction in [0, 1): its top 53 bits over 2^53, exact in a double. */
export function uidHashFraction(uid: string): number {
  const [hi, lo] = uidHashWords(uid);
  return (hi * 0x20_0000 + (lo >>> 11)) / TWO_POW_53;
}

/** (a * b) mod 2^64 on uint32 words; the low product is taken in 16-bit halves so that it stays exact. */
function multiply64(aHi: number, aLo: number, bHi: number, bLo: number): [hi: number, lo: number] {
  const a0 = aLo & 0xffff;
  const a1 = aLo >>> 16;
  const b0 = bLo & 0xffff;
  const b1 = bLo >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const middle = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const lo = (((middle & 0xffff) << 16) | (p00 & 0xffff)) >>> 0;
  const carry = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (middle >>> 16);
  return [(carry + Math.imul(aHi, bLo) + Math.imul(aLo, bHi)) >>> 0, lo];
}
