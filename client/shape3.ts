import { FeedError } from './feed-error.js';

/**
 * (s0, s1, s2): a tile or volume shape, or a voxel position, in C order: axis 0 is the slowest in memory and
 * on the wire, and the fastest in the NRRD file (NRRD axis order).
 */
export type Shape3 = readonly [number, number, number];

/** Throws INVALID_ARGUMENT naming `shape` unless it is three integers >= 1. */
export function checkShape(name: string, shape: Shape3, example: string): void {
  const ok =
    Array.isArray(shape) &&
    shape.length === 3 &&
    shape.every((size) => Number.isSafeInteger(size) && size >= 1);
  if (!ok) {
    const details = `${name} is ${JSON.stringify(shape)}; give 3 integers >= 1 in NRRD axis order (s0, s1, s2), ${example}`;
    throw new FeedError('INVALID_ARGUMENT', details, details);
  }
}
