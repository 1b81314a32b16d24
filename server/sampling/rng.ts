/**
 * Counter-based random numbers: every stream of draws is a pure function of an integer key,
 * e.g. (seed, epoch, sample index, purpose). There is no shared mutable generator, so any
 * sample can be drawn alone, in any order, on any replica, and give the same numbers.
 *
 * The key words are mixed into 128 bits with a murmur3-style finaliser, then expanded by
 * sfc32 (Chris Doty-Humphrey's small fast counter generator), which passes PractRand far
 * beyond the few dozen draws one sample needs.
 */

/** Purposes keep independent streams apart even for equal (seed, epoch, index). */
export const RngPurpose = {
  permutation: 1,
  sample: 2,
  negativeSeries: 3,
  synth: 4,
  seriesOrder: 5,
  windowShuffle: 6,
  badSeriesReplacement: 7,
  augmentation: 8,
  foregroundItem: 9,
} as const;
export type RngPurpose = (typeof RngPurpose)[keyof typeof RngPurpose];

export interface Rng {
  /** A uniform integer in [0, 2^32). */
  nextUint32(): number;
  /** A uniform float in [0, 1) with 53 random bits. */
  nextFloat(): number;
  /** A uniform integer in [min, max], both inclusive; unbiased (rejection sampling). */
  nextInt(min: number, max: number): number;
}

const UINT32 = 0x1_0000_0000;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85eb_ca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2_ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Splits a non-negative integer (number up to 2^53 or bigint up to 2^64) into two uint32 words. */
export function toWords(value: number | bigint): [number, number] {
  if (typeof value === 'bigint') {
    const v = BigInt.asUintN(64, value);
    return [Number(v & 0xffff_ffffn), Number(v >> 32n)];
  }
  return [value >>> 0, Math.floor(value / UINT32) >>> 0];
}

/** Hashes a list of uint32 words into one uint32, different for each lane. */
function hashWords(words: readonly number[], lane: number): number {
  let h = Math.imul(lane + 1, 0x9e37_79b9) >>> 0;
  for (const word of words) {
    h = fmix32((h ^ fmix32(word >>> 0)) + 0x6a09_e667);
    h = Math.imul(h ^ (h >>> 15), 0x2c1b_3c6d) >>> 0;
  }
  return fmix32(h ^ words.length);
}

class Sfc32 implements Rng {
  private a: number;
  private b: number;
  private c: number;
  private counter: number;

  constructor(a: number, b: number, c: number, counter: number) {
    this.a = a;
    this.b = b;
    this.c = c;
    this.counter = counter;
    // Discard the first outputs so that close keys diverge fully.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.counter) >>> 0;
    this.counter = (this.counter + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  nextFloat(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67_108_864 + low) / 9_007_199_254_740_992;
  }

  nextInt(min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max < min) {
      throw new RangeError(`nextInt needs integers min <= max, got [${min}, ${max}]`);
    }
    const span = max - min + 1;
    if (span === 1) return min;
    if (span <= UINT32) {
      // Reject the top partial block so every value is equally likely.
      const limit = UINT32 - (UINT32 % span);
      for (;;) {
        const r = this.nextUint32();
        if (r < limit) return min + (r % span);
      }
    }
    const limit = 9_007_199_254_740_992 - (9_007_199_254_740_992 % span);
    for (;;) {
      const r = Math.floor(this.nextFloat() * 9_007_199_254_740_992);
      if (r < limit) return min + (r % span);
    }
  }
}

/**
 * A generator keyed by the given words, e.g.
 * `createRng([...toWords(seed), epoch, ...toWords(index), RngPurpose.sample])`.
 * Equal keys give equal streams; any change in any word gives an unrelated stream.
 */
export function createRng(key: readonly number[]): Rng {
  return new Sfc32(hashWords(key, 0), hashWords(key, 1), hashWords(key, 2), hashWords(key, 3));
}
