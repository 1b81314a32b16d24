import type { Shape3 } from '../../sampling/types.js';
import { runInSlabs } from '../run-in-slabs.js';
import { sharedBytes } from './shared-bytes.js';

/** Voxels per slab between event-loop yields: about 0.5 ms of work. */
const SLAB_VOXELS = 1 << 19;
/** Square tiles keep the strided side of the transpose inside the CPU cache. */
const TILE = 16;

/**
 * Reorders a uint8 volume from file order (axis 0 fastest: `in[x0 + n0*(x1 + n1*x2)]`) to C order
 * (axis 2 fastest: `out[(x0*n1 + x1)*n2 + x2]`), in slabs of axis-1 planes with event-loop yields between.
 *
 * For each axis-1 plane this is a 2-D transpose of (x2, x0) into (x0, x2). The bulk moves 4x4 byte blocks
 * as four 32-bit words (a fixed shuffle of bytes), 4x fewer loads and stores than byte by byte: 128x192x192
 * takes ~4 ms instead of ~11 ms for a tiled byte loop. DataView (explicit little-endian, unaligned access
 * allowed) lets every shape and byte order share that path; the edges left over by sizes that are not
 * multiples of 4 go byte by byte. The output is shared memory (sharedBytes), which crop workers read in place.
 */
export async function transposeToCOrder(input: Uint8Array, shape: Shape3): Promise<Uint8Array> {
  const [n0, n1, n2] = shape;
  const output = sharedBytes(n0 * n1 * n2);
  const planesPerSlab = Math.max(1, Math.floor(SLAB_VOXELS / Math.max(1, n0 * n2)));
  await runInSlabs(n1, planesPerSlab, (start, end) => {
    for (let x1 = start; x1 < end; x1++) transposePlane(input, output, shape, x1);
  });
  return output;
}

function transposePlane(input: Uint8Array, output: Uint8Array, shape: Shape3, x1: number): void {
  const [n0, n1, n2] = shape;
  const inStride = n0 * n1; // step of x2 in the input
  const outStride = n1 * n2; // step of x0 in the output
  const source = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const target = new DataView(output.buffer, output.byteOffset, output.byteLength);
  const m0 = n0 - (n0 % 4);
  const m2 = n2 - (n2 % 4);
  for (let b0 = 0; b0 < m0; b0 += TILE) {
    const e0 = Math.min(m0, b0 + TILE);
    for (let b2 = 0; b2 < m2; b2 += TILE) {
      const e2 = Math.min(m2, b2 + TILE);
      for (let x0 = b0; x0 < e0; x0 += 4) {
        let from = x0 + n0 * x1 + inStride * b2;
        let to = x0 * outStride + x1 * n2 + b2;
        for (let x2 = b2; x2 < e2; x2 += 4) {
          // a..d: 4 input rows (x2..x2+3), each 4 voxels along x0; bytes in little-endian order.
          const a = source.getUint32(from, true);
          const b = source.getUint32(from + inStride, true);
          const c = source.getUint32(from + 2 * inStride, true);
          const d = source.getUint32(from + 3 * inStride, true);
          const ab02 = (a & 0x00ff00ff) | ((b & 0x00ff00ff) << 8); // a0 b0 a2 b2
          const ab13 = ((a >>> 8) & 0x00ff00ff) | (b & 0xff00ff00); // a1 b1 a3 b3
          const cd02 = (c & 0x00ff00ff) | ((d & 0x00ff00ff) << 8); // c0 d0 c2 d2
          const cd13 = ((c >>> 8) & 0x00ff00ff) | (d & 0xff00ff00); // c1 d1 c3 d3
          target.setUint32(to, (ab02 & 0xffff) | (cd02 << 16), true); // a0 b0 c0 d0
          target.setUint32(to + outStride, (ab13 & 0xffff) | (cd13 << 16), true);
          target.setUint32(to + 2 * outStride, (ab02 >>> 16) | (cd02 & 0xffff0000), true);
          target.setUint32(to + 3 * outStride, (ab13 >>> 16) | (cd13 & 0xffff0000), true);
          from += 4 * inStride;
          to += 4;
        }
      }
    }
  }
  // Edges: x2 >= m2 for the rows done above, every x2 for x0 >= m0.
  for (let x0 = 0; x0 < n0; x0++) {
    const first = x0 < m0 ? m2 : 0;
    let from = x0 + n0 * x1 + inStride * first;
    let to = x0 * outStride + x1 * n2 + first;
    for (let x2 = first; x2 < n2; x2++) {
      output[to++] = input[from]!;
      from += inStride;
    }
  }
}
