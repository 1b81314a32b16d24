/**
 * Counter-based standard normal numbers: pair m of a seed is a pure function of (seed, m), so any voxel's
 * noise can be computed alone, in any order, and in numpy with vectorised uint32 arithmetic:
 *
 *   h(c) = fmix32(fmix32(c ^ seed) ^ 0x6a09e667)          (uint32; fmix32 is murmur3's finaliser)
 *   u1 = (h(2m) + 1) / 2^32,  u2 = h(2m + 1) / 2^32     (float64; u1 in (0, 1], so log(u1) is finite)
 *   r = sqrt(-2 log(u1)),  z[2m] = r cos(2 pi u2),  z[2m + 1] = r sin(2 pi u2)   (Box-Muller, float64)
 *
 * Voxel i of a crop (C order) takes z[i]. log, cos and sin are the platform's float64 functions, within an
 * ulp of the true value; a float32 result built on them matches numpy's on every voxel the tests check.
 */
export function gaussianNoisePair(seed: number, m: number, out: [number, number]): void {
  const u1 = (noiseHash(seed, 2 * m) + 1) / 4_294_967_296;
  const u2 = noiseHash(seed, 2 * m + 1) / 4_294_967_296;
  const r = Math.sqrt(-2 * Math.log(u1));
  const angle = 2 * Math.PI * u2;
  out[0] = r * Math.cos(angle);
  out[1] = r * Math.sin(angle);
}

function noiseHash(seed: number, counter: number): number {
  return fmix32((fmix32((counter ^ seed) >>> 0) ^ 0x6a09_e667) >>> 0);
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85eb_ca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2_ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
