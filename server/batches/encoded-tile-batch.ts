import { TileBatch } from '@voxelfeed/proto';
import { type EncodedBatchLayout, layOutTensorMessage } from './encoded-batch.js';

/** TileBatch.image and TileBatch.mask. */
const TILE_TENSOR_FIELDS = { image: 10, mask: 11 } as const;

/**
 * The layout of a `voxelfeed.v1.TileBatch` written in place like a Batch (encoded-batch.ts): frame header,
 * image, mask, then every other field; `writeEncodedBatch` fills it into a buffer of batch memory.
 */
export function layOutEncodedTileBatch(
  header: Omit<TileBatch, 'image' | 'mask'>,
  imageBytes: number,
  maskBytes: number,
): EncodedBatchLayout {
  const head = TileBatch.encode({ ...header, image: EMPTY, mask: EMPTY }).finish();
  return layOutTensorMessage(head, TILE_TENSOR_FIELDS, imageBytes, maskBytes);
}

const EMPTY = Buffer.alloc(0);
