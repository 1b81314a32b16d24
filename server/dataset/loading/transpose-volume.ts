import { copyBytes } from '../../sampling/bulk-bytes.js';
import { mirrorTurnKernel } from '../../sampling/mirror-turn.js';
import type { Shape3 } from '../../sampling/types.js';
import { runInSlabs } from '../run-in-slabs.js';
import { sharedBytes } from './shared-bytes.js';

/** Voxels per chunk of axis-1 planes, each chunk one synchronous stretch between event-loop yields. */
const CHUNK_VOXELS = 1 << 19;

/**
 * Reorders a uint8 volume from file order (axis 0 fastest: `in[x0 + n0*(x1 + n1*x2)]`) to C order
 * (axis 2 fastest: `out[(x0*n1 + x1)*n2 + x2]`), in chunks of P axis-1 planes with event-loop yields between.
 *
 * For each axis-1 plane this is a 2-D transpose of (x2, x0) into (x0, x2). A chunk's input is n2 runs of
 * P * n0 bytes (one per x2) and its output n0 runs of P * n2 bytes (one per x0): each run goes in and out of a
 * WebAssembly kernel's memory with one native copy, and the kernel (mirror-turn.wat's `transpose`) moves the
 * bytes as 16x16 blocks of 128-bit lanes. Measured on Node 20 (2-core x86-64 virtual machine), the shared
 * output's allocation included: a 128x192x192 array in 5.3-6 ms against 15-16.5 ms for 4x4 blocks of 32-bit
 * words in JavaScript; a 512x512x120 array in about 105 ms either way, most of it the page faults of first
 * touching the fresh 31 MB output. The output is shared memory (sharedBytes), which crop workers read in
 * place.
 */
export async function transposeToCOrder(input: Uint8Array, shape: Shape3): Promise<Uint8Array> {
  const [n0, n1, n2] = shape;
  const output = sharedBytes(n0 * n1 * n2);
  const planesPerChunk = Math.max(1, Math.min(n1, Math.floor(CHUNK_VOXELS / Math.max(1, n0 * n2))));
  await runInSlabs(n1, planesPerChunk, (start, end) => transposeChunk(input, output, shape, start, end));
  return output;
}

/** The axis-1 planes [start, end) of the volume, through the kernel's memory. */
function transposeChunk(
  input: Uint8Array,
  output: Uint8Array,
  shape: Shape3,
  start: number,
  end: number,
): void {
  const [n0, n1, n2] = shape;
  const planes = end - start;
  const chunk = planes * n0 * n2;
  if (chunk === 0) return;
  const inRun = planes * n0;
  const outRun = planes * n2;
  const [inStride, outStride] = [spreadStride(inRun), spreadStride(outRun)];
  const outAt = n2 * inStride;
  const {
    heap,
    exports: { transpose },
  } = mirrorTurnKernel.reserve(outAt + n0 * outStride);
  // In: the run of P planes' x0 rows of each x2, at heap[x2 * inStride + p * n0 + x0].
  for (let x2 = 0; x2 < n2; x2++) {
    const from = (x2 * n1 + start) * n0;
    copyBytes(heap, input.subarray(from, from + inRun), x2 * inStride);
  }
  // Out: the run of P planes' x2 rows of each x0, at heap[outAt + x0 * outStride + p * n2 + x2].
  for (let p = 0; p < planes; p++) transpose(p * n0, inStride, outAt + p * n2, outStride, n2, n0);
  for (let x0 = 0; x0 < n0; x0++) {
    const from = outAt + x0 * outStride;
    copyBytes(output, heap.subarray(from, from + outRun), (x0 * n1 + start) * n2);
  }
}

/**
 * A run's stride in the kernel's memory: an odd multiple of 64 bytes at least `run` long. The kernel reads
 * 16 runs at a time; at a stride of a multiple of 4 KiB (512-voxel rows) they would all fall into the same
 * few cache sets and evict each other.
 */
function spreadStride(run: number): number {
  return (Math.ceil(run / 64) | 1) * 64;
}
