/** A run of consecutive variables whose gradients are exchanged together: variables [first, end). */
export interface GradientBucket {
  readonly first: number;
  readonly end: number;
  /** Elements of the bucket's gradients together. */
  readonly size: number;
}

/**
 * PyTorch DDP's default bucket: 25 MiB of float32 gradients. Big enough that the per-exchange overhead
 * (about half a millisecond on loopback) is small against the transfer, small enough that the first bucket
 * goes out while the device still computes the others.
 */
export const DEFAULT_BUCKET_ELEMENTS = (25 * 1024 * 1024) / 4;

/**
 * Cuts the variables (by their element counts, in the model's order) into buckets of at most
 * `bucketElements` elements (a larger variable makes a bucket of its own), starting from the LAST variable:
 * the backward pass produces the last layers' gradients first, so the exchange of the first bucket can run
 * while the device still computes the gradients of the earlier layers. The cut depends only on the sizes, so
 * every rank cuts the same buckets and exchanges them in the same order.
 */
export function gradientBuckets(sizes: readonly number[], bucketElements: number): GradientBucket[] {
  if (!Number.isInteger(bucketElements) || bucketElements < 1) {
    throw new RangeError(`bucketElements must be a positive integer, got ${bucketElements}`);
  }
  const buckets: GradientBucket[] = [];
  let end = sizes.length;
  while (end > 0) {
    let first = end - 1;
    let size = sizes[first]!;
    while (first > 0 && size + sizes[first - 1]! <= bucketElements) {
      first -= 1;
      size += sizes[first]!;
    }
    buckets.push({ first, end, size });
    end = first;
  }
  return buckets;
}
