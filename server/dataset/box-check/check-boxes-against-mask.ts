import type { Nodule, Shape3, Vec3, Volume } from '../../sampling/types.js';

/** A mask as the check reads it: whether the voxel at NRRD axis indices (i0, i1, i2) is a nodule voxel. */
export interface MaskView {
  readonly shape: Shape3;
  isNodule(i0: number, i1: number, i2: number): boolean;
  /** Whether no voxel at all is a nodule voxel; asked only when some centre misses. */
  isEmpty(): boolean;
}

/** What a series' boxes say against its mask, when at least one centre misses it. */
export interface BoxMaskMismatch {
  readonly boxes: number;
  /** Rows of the boxes file whose centre has no nodule voxel within one voxel. */
  readonly missing: readonly number[];
  readonly cause: BoxMaskCause | null;
}

/**
 * The likeliest reason: an empty mask, or a reading of the boxes under which more centres hit: `order[k]` is
 * the NRRD axis that column k of the file holds, and `millimetres` that the centres are divided by the spacing.
 */
export type BoxMaskCause =
  | { readonly kind: 'empty-mask' }
  | {
      readonly kind: 'reading';
      readonly order: Shape3;
      readonly millimetres: boolean;
      readonly hits: number;
    };

/** How the axes are named in messages: the LUNA16 layout's (z, y, x) for NRRD axes 0, 1, 2. */
const AXIS_NAMES = ['z', 'y', 'x'] as const;
/** The column orders tried, the two-axis swaps first: (z, x, y), the original pipeline's mistake, leads. */
const ORDERS: readonly Shape3[] = [
  [0, 1, 2],
  [0, 2, 1],
  [2, 1, 0],
  [1, 0, 2],
  [1, 2, 0],
  [2, 0, 1],
];
/** A centre hits when a nodule voxel lies within this many voxels of it on every axis (rounding, half voxels). */
const REACH = 1;

/**
 * Checks every box centre of a series against its mask: a centre hits when a nodule voxel lies within one
 * voxel of it. Returns null when every centre hits (or there are no boxes); otherwise which rows miss and the
 * likely cause, found by reading the boxes with the other column orders and, with a spacing, as millimetres.
 * Costs 27 voxel reads per box, and 11 times that for a series that misses: cheap enough for a first decode.
 */
export function checkBoxesAgainstMask(
  nodules: readonly Nodule[],
  mask: MaskView,
  spacing: Vec3 | null | undefined,
): BoxMaskMismatch | null {
  const missing: number[] = [];
  nodules.forEach((nodule, row) => {
    if (!hits(mask, nodule.center)) missing.push(row);
  });
  if (missing.length === 0) return null;
  return { boxes: nodules.length, missing, cause: likelyCause(nodules, mask, spacing, missing.length) };
}

function likelyCause(
  nodules: readonly Nodule[],
  mask: MaskView,
  spacing: Vec3 | null | undefined,
  missing: number,
): BoxMaskCause | null {
  if (mask.isEmpty()) return { kind: 'empty-mask' };
  // Millimetres are tried only with a spacing that differs from 1: otherwise they read as the voxels above.
  const mm = spacing?.some((size) => Math.abs(size - 1) > 1e-6) ? spacing : null;
  let best: BoxMaskCause | null = null;
  for (const millimetres of mm === null ? [false] : [false, true]) {
    for (const order of ORDERS) {
      if (!millimetres && order === ORDERS[0]) continue; // the reading that missed
      let count = 0;
      for (const nodule of nodules) {
        if (hits(mask, reread(nodule.center, order, millimetres ? mm : null))) count++;
      }
      if (count > nodules.length - missing && (best === null || count > hitsOf(best))) {
        best = { kind: 'reading', order, millimetres, hits: count };
      }
    }
  }
  return best;
}

function hitsOf(cause: BoxMaskCause): number {
  return cause.kind === 'reading' ? cause.hits : 0;
}

/** The centre in NRRD axes if column k holds axis `order[k]`, in millimetres when `spacing` is given. */
function reread(center: Vec3, order: Shape3, spacing: Vec3 | null): Vec3 {
  const out = [0, 0, 0];
  order.forEach((axis, column) => {
    out[axis] = center[column]! / (spacing === null ? 1 : spacing[axis]!);
  });
  return [out[0]!, out[1]!, out[2]!];
}

function hits(mask: MaskView, center: Vec3): boolean {
  const [n0, n1, n2] = mask.shape;
  const [r0, r1, r2] = center.map(Math.round) as [number, number, number];
  for (let i0 = Math.max(0, r0 - REACH); i0 <= Math.min(n0 - 1, r0 + REACH); i0++) {
    for (let i1 = Math.max(0, r1 - REACH); i1 <= Math.min(n1 - 1, r1 + REACH); i1++) {
      for (let i2 = Math.max(0, r2 - REACH); i2 <= Math.min(n2 - 1, r2 + REACH); i2++) {
        if (mask.isNodule(i0, i1, i2)) return true;
      }
    }
  }
  return false;
}

/** A decoded volume's mask (C order, labels 0/1) as the check reads it. */
export function maskViewOfVolume(volume: Volume): MaskView {
  const [, n1, n2] = volume.shape;
  const { mask } = volume;
  return {
    shape: volume.shape,
    isNodule: (i0, i1, i2) => mask[(i0 * n1 + i1) * n2 + i2] !== 0,
    isEmpty: () =>
      volume.maskBox === undefined ? !mask.some((value) => value !== 0) : volume.maskBox === null,
  };
}

/** "(z, x, y)" for the column order [0, 2, 1]. */
function orderName(order: Shape3): string {
  return `(${order.map((axis) => AXIS_NAMES[axis]).join(', ')})`;
}

/**
 * One line for a series whose boxes miss its mask: how many, the first centre, the likely cause and the fix,
 * e.g. "2 of 2 box centres miss the mask (rows 0, 1; first (6, 34, 12)); the boxes look like (z, x, y) ...".
 */
export function describeBoxMaskMismatch(
  mismatch: BoxMaskMismatch,
  nodules: readonly Nodule[],
  files: { readonly maskPath: string; readonly boxesPath: string },
  spacing: Vec3 | null | undefined,
): string {
  const { boxes, missing, cause } = mismatch;
  const rows = missing.length > 8 ? `${missing.slice(0, 8).join(', ')}, ...` : missing.join(', ');
  const first = nodules[missing[0]!]!.center.map(round2).join(', ');
  const head = `${missing.length} of ${boxes} box centres in ${files.boxesPath} miss the mask (rows ${rows}; first (${first}))`;
  if (cause === null) {
    return `${head}; no other column order${spacing ? ' and no millimetre reading' : ''} makes them hit: check that ${files.maskPath} and the boxes belong to the same series`;
  }
  if (cause.kind === 'empty-mask') {
    return `${head}: ${files.maskPath} has no voxel above 0; save the nodule labels in the mask, or boxes (0, 4) for a series without nodules`;
  }
  const identity = cause.order.every((axis, column) => axis === column);
  const looks = [
    identity
      ? ''
      : `look like ${orderName(cause.order)}, expected ${orderName(ORDERS[0]!)} (NRRD axes 0, 1, 2)`,
    cause.millimetres ? 'look like millimetres, expected voxels' : '',
  ]
    .filter((part) => part !== '')
    .join(' and ');
  // The fix as numpy: column j of the new file is the old column holding axis j.
  const columns = [0, 1, 2].map((axis) => cause.order.indexOf(axis));
  const divided =
    cause.millimetres && spacing
      ? `columns 0-2 divided by the spacings (${spacing.map(round2).join(', ')})`
      : '';
  const fix = identity
    ? `re-save them with ${divided}`
    : `re-save them as boxes[:, [${columns.join(', ')}, 3]]${divided === '' ? '' : `, ${divided}`}`;
  return `${head}; the boxes ${looks}: read that way ${cause.hits} of ${boxes} hit; ${fix}`;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
