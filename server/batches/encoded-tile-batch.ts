import { DType, TileBatch } from '@voxelfeed/proto';
import { type EncodedBatchLayout, layOutTensorMessage, type TensorFields } from './encoded-batch.js';

/** TileBatch.image, TileBatch.mask and TileBatch.padding. */
const TILE_TENSOR_FIELDS: TensorFields = { image: 10, mask: 11, padding: 14 };

/**
 * The layout of a `voxelfeed.v1.TileBatch` written in place like a Batch (encoded-batch.ts): frame header,
 * padding (float32 only), image, mask, then every other field; `writeEncodedBatch` fills it into a buffer of
 * batch memory. `imageLanding` as for layOutEncodedBatch.
 */
export function layOutEncodedTileBatch(
  header: Omit<TileBatch, 'image' | 'mask' | 'padding'>,
  imageBytes: number,
  maskBytes: number,
  imageLanding = 0,
): EncodedBatchLayout {
  const head = TileBatch.encode({ ...header, image: EMPTY, mask: EMPTY, padding: EMPTY }).finish();
  const landing = header.dtype === DType.DTYPE_FLOAT32 ? imageLanding : null;
  return layOutTensorMessage(head, TILE_TENSOR_FIELDS, imageBytes, maskBytes, landing);
}

const EMPTY = Buffer.alloc(0);
