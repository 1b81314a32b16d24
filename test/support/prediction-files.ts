import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Shape3 } from '../../server/sampling/types.js';

/**
 * Writes `<uid>_pred.nrrd` into `dir` as the shared prediction format has it: uint8 in file order (axis 0
 * fastest), gzip, with `voxelfeed_kind:=probability` (values round(255 p)) or `voxelfeed_kind:=mask` (0/1) and
 * `voxelfeed_series:=<uid>`; `kind: null` leaves the kind line out, as another tool's file would.
 */
export async function writePredictionFile(
  dir: string,
  uid: string,
  options: {
    readonly sizes: Shape3;
    readonly values: Uint8Array;
    readonly kind: 'probability' | 'mask' | null;
    readonly spacings?: readonly number[];
  },
): Promise<string> {
  const lines = [
    'NRRD0004',
    'type: uint8',
    'dimension: 3',
    `sizes: ${options.sizes.join(' ')}`,
    ...(options.spacings === undefined ? [] : [`spacings: ${options.spacings.join(' ')}`]),
    'encoding: gzip',
    ...(options.kind === null ? [] : [`voxelfeed_kind:=${options.kind}`]),
    `voxelfeed_series:=${uid}`,
  ];
  const file = path.join(dir, `${uid}_pred.nrrd`);
  await writeFile(
    file,
    Buffer.concat([Buffer.from(`${lines.join('\n')}\n\n`, 'latin1'), gzipSync(options.values)]),
  );
  return file;
}

/** Index of voxel (a0, a1, a2), NRRD axes, in file order (axis 0 fastest). */
export function fileIndex(sizes: Shape3, a0: number, a1: number, a2: number): number {
  return a0 + sizes[0] * (a1 + sizes[1] * a2);
}

/** Sets a cube of side `side` with its low corner at (a0, a1, a2) to `value`, clipped to the volume. */
export function paintCube(
  values: Uint8Array,
  sizes: Shape3,
  corner: readonly [number, number, number],
  side: number,
  value: number,
): void {
  for (let k = corner[2]; k < Math.min(sizes[2], corner[2] + side); k++) {
    for (let j = corner[1]; j < Math.min(sizes[1], corner[1] + side); j++) {
      for (let i = corner[0]; i < Math.min(sizes[0], corner[0] + side); i++)
        values[fileIndex(sizes, i, j, k)] = value;
    }
  }
}
