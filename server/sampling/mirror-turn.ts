import { MIRROR_TURN_WASM_BASE64 } from './mirror-turn-wasm.js';
import { WasmKernel } from './wasm-kernel.js';

/** mirror-turn.wat's exports (addresses in the kernel's memory). */
export interface MirrorTurnExports {
  /** to[c * toStride + r] = from[r * fromStride + c] for r < rows, c < cols. */
  readonly transpose: (
    from: number,
    fromStride: number,
    to: number,
    toStride: number,
    rows: number,
    cols: number,
  ) => void;
  /** to(i, a, b) = from(i, b, a) for s0 square planes of side s. */
  readonly transposePlanes: (from: number, to: number, s0: number, s: number) => void;
  readonly reverse: (at: number, n: number) => void;
  readonly mirrorRows: (
    from: number,
    to: number,
    s0: number,
    s1: number,
    s2: number,
    alsoAxis0: number,
  ) => void;
  readonly mirrorPlanes: (from: number, to: number, s0: number, plane: number) => void;
}

/**
 * This thread's mirror-and-turn kernel: the augmentation's mirrors and turns (mirror-and-turn.ts) and the
 * transpose of loads (transpose-volume.ts) use it in turn, each call running to its end before another.
 */
export const mirrorTurnKernel = new WasmKernel<MirrorTurnExports>(MIRROR_TURN_WASM_BASE64);
