/**
 * Counter-based Gaussian noise: the noise of voxel i of a crop is a pure function of (seed, i), so any voxel's
 * noise can be computed alone and in numpy with vectorised uint32 arithmetic:
 *
 *   h = fmix32(imul(i, 0x9e3779b9) ^ seed)        (uint32; fmix32 is murmur3's finaliser)
 *   z = NORMAL_QUANTILES[h >>> 16]
 *
 * where NORMAL_QUANTILES[t] = float32(inv_cdf((t + 0.5) / 65536)), the standard normal quantile by Wichura's
 * AS241 (PPND16), the algorithm of Python's statistics.NormalDist.inv_cdf. A table of 65536 equally likely
 * quantiles is a Gaussian to the resolution any augmentation needs (|z| up to 4.2), costs one hash and one
 * lookup per voxel (a tenth of Box-Muller's log and cos), and is float32, so the platform's log can differ
 * from another's in the last bit of a double without changing any entry.
 */
export const NORMAL_QUANTILES: Float32Array = (() => {
  const table = new Float32Array(65_536);
  for (let t = 0; t < table.length; t++) table[t] = normalQuantile((t + 0.5) / 65_536);
  return table;
})();

/** The noise quantile index of voxel `index` for `seed`: an integer 0..65535. */
export function noiseQuantileIndex(seed: number, index: number): number {
  let h = (Math.imul(index, 0x9e37_79b9) ^ seed) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85eb_ca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2_ae35);
  h ^= h >>> 16;
  return h >>> 16;
}

/** AS241 (Wichura 1988), written as Python's statistics module writes it, operation for operation. */
export function normalQuantile(p: number): number {
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    const num =
      (((((((2509.0809287301227 * r + 33430.57558358813) * r + 67265.7709270087) * r + 45921.95393154987) *
        r +
        13731.69376550946) *
        r +
        1971.5909503065513) *
        r +
        133.14166789178438) *
        r +
        3.3871328727963665) *
      q;
    const den =
      ((((((5226.495278852854 * r + 28729.085735721943) * r + 39307.89580009271) * r + 21213.794301586597) *
        r +
        5394.196021424751) *
        r +
        687.1870074920579) *
        r +
        42.31333070160091) *
        r +
      1.0;
    return num / den;
  }
  let r = q <= 0 ? p : 1 - p;
  r = Math.sqrt(-Math.log(r));
  let num: number;
  let den: number;
  if (r <= 5) {
    r = r - 1.6;
    num =
      ((((((0.0007745450142783414 * r + 0.022723844989269184) * r + 0.2417807251774506) * r +
        1.2704582524523684) *
        r +
        3.6478483247632045) *
        r +
        5.769497221460691) *
        r +
        4.630337846156546) *
        r +
      1.4234371107496835;
    den =
      ((((((1.0507500716444169e-9 * r + 0.0005475938084995345) * r + 0.015198666563616457) * r +
        0.14810397642748008) *
        r +
        0.6897673349851) *
        r +
        1.6763848301838038) *
        r +
        2.053191626637759) *
        r +
      1.0;
  } else {
    r = r - 5;
    num =
      ((((((2.0103343992922881e-7 * r + 2.7115555687434876e-5) * r + 0.0012426609473880784) * r +
        0.026532189526576124) *
        r +
        0.29656057182850487) *
        r +
        1.7848265399172913) *
        r +
        5.463784911164114) *
        r +
      6.657904643501103;
    den =
      ((((((2.0442631033899397e-15 * r + 1.421511758316446e-7) * r + 1.8463183175100548e-5) * r +
        0.0007868691311456133) *
        r +
        0.014875361290850615) *
        r +
        0.1369298809227358) *
        r +
        0.599832206555888) *
        r +
      1.0;
  }
  const x = num / den;
  return q < 0 ? -x : x;
}
