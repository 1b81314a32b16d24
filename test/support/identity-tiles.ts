import type { Shape3 } from '../../client/shape3.js';

/**
 * Tiles of a volume cut the way StreamTiles documents its grid, written here from the rule in the .proto
 * (not from the server's code), with the prediction of an identity model (tile / 255). Tests of the merge use
 * it without a server.
 */

/** Origins along one axis of size `v` for tile `t` and overlap `o` (a float32 on the wire). */
export function gridOrigins(v: number, t: number, o: number): number[] {
  if (v <= t) return [0];
  const step = Math.max(1, t * (1 - Math.fround(o)));
  const n = Math.ceil((v - t) / step) + 1;
  return Array.from({ length: n }, (_, i) => Math.floor((i * (v - t)) / (n - 1) + 1 / 2));
}

/** `count` bytes from a seeded generator (mulberry32): the same volume for the same seed. */
export function seededBytes(count: number, seed: number): Uint8Array {
  const out = new Uint8Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    out[i] = ((z ^ (z >>> 14)) >>> 0) & 0xff;
  }
  return out;
}

export interface CutTile {
  readonly origin: Shape3;
  /** The tile's voxels (t0 * t1 * t2, C order), `padValue` past the volume's edge. */
  readonly image: Uint8Array;
}

/** Every tile of `volume` (C order) in the server's order: t = (i0 * n1 + i1) * n2 + i2, axis 0 slowest. */
export function* cutTiles(
  volume: Uint8Array,
  shape: Shape3,
  tile: Shape3,
  overlap: number,
  padValue = 0,
): Generator<CutTile> {
  const [o0s, o1s, o2s] = [0, 1, 2].map((axis) => gridOrigins(shape[axis]!, tile[axis]!, overlap)) as [
    number[],
    number[],
    number[],
  ];
  for (const o0 of o0s) {
    for (const o1 of o1s) {
      for (const o2 of o2s) {
        const image = new Uint8Array(tile[0] * tile[1] * tile[2]).fill(padValue);
        for (let i = 0; i < tile[0] && o0 + i < shape[0]; i++) {
          for (let j = 0; j < tile[1] && o1 + j < shape[1]; j++) {
            const from = ((o0 + i) * shape[1] + o1 + j) * shape[2] + o2;
            const width = Math.min(tile[2], shape[2] - o2);
            image.set(volume.subarray(from, from + width), (i * tile[1] + j) * tile[2]);
          }
        }
        yield { origin: [o0, o1, o2], image };
      }
    }
  }
}

/** The identity model: prediction = image / 255, as float32. */
export function identityPrediction(image: Uint8Array): Float32Array {
  return Float32Array.from(image, (value) => value / 255);
}
