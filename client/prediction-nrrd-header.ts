import { FeedError } from './feed-error.js';
import type { Shape3 } from './shape3.js';

export type NrrdEncoding = 'gzip' | 'raw';

export interface PredictionNrrdHeader {
  /** NRRD `sizes`: the volume's shape in NRRD axis order (axis 0 the file's fastest). */
  readonly sizes: Shape3;
  readonly encoding: NrrdEncoding;
  /** `probability` (uint8 round(255 p)) or `mask` (0/1). */
  readonly kind: 'probability' | 'mask';
  /** Millimetres per axis (TileBatch.spacing), NRRD axis order; none when unknown. */
  readonly spacings?: readonly number[];
  readonly seriesUid?: string;
  /** The threshold a mask was cut at, written as `voxelfeed_threshold`. */
  readonly threshold?: number;
}

/**
 * The attached NRRD0004 header of a predicted mask, up to and including the blank line that ends it: type
 * uint8, dimension 3, sizes, spacings when known, the encoding, and `key:=value` lines saying what the voxels
 * are (`voxelfeed_kind`), for which series, and at which threshold.
 */
export function predictionNrrdHeader(header: PredictionNrrdHeader): string {
  const lines = [
    'NRRD0004',
    '# Complete NRRD file format specification at:',
    '# http://teem.sourceforge.net/nrrd/format.html',
    `content: voxelfeed ${header.kind}`,
    'type: uint8',
    'dimension: 3',
    `sizes: ${header.sizes.join(' ')}`,
  ];
  const spacings = header.spacings ?? [];
  if (spacings.length > 0) {
    if (spacings.length !== 3 || !spacings.every((s) => Number.isFinite(s) && s > 0)) {
      const details = `spacing is [${spacings.join(', ')}]; give 3 finite values > 0 in mm (TileBatch.spacing), or none`;
      throw new FeedError('INVALID_ARGUMENT', details, `NRRD writer: ${details}`);
    }
    lines.push(`spacings: ${spacings.join(' ')}`);
  }
  lines.push('kinds: domain domain domain', `encoding: ${header.encoding}`);
  lines.push(`voxelfeed_kind:=${header.kind}`);
  if (header.seriesUid !== undefined) {
    if (/[\r\n\\]/.test(header.seriesUid)) {
      const details = `series uid ${JSON.stringify(header.seriesUid)} holds a line break or backslash; give the uid as one line`;
      throw new FeedError('INVALID_ARGUMENT', details, `NRRD writer: ${details}`);
    }
    lines.push(`voxelfeed_series:=${header.seriesUid}`);
  }
  if (header.threshold !== undefined) lines.push(`voxelfeed_threshold:=${header.threshold}`);
  return lines.join('\n') + '\n\n';
}
