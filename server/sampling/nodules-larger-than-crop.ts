import type { SeriesSummary, Shape3 } from './types.js';

/** Nodules whose diameter exceeds the crop on some axis: no crop of that size holds them whole. */
export interface NodulesLargerThanCrop {
  readonly count: number;
  /** Nodules of the whole data set, for the share. */
  readonly of: number;
  /** The largest such nodule (the first one among equals): its series, its row in the boxes, the axes. */
  readonly example: {
    readonly uid: string;
    readonly row: number;
    readonly diameter: number;
    /** NRRD axes on which the diameter exceeds the crop. */
    readonly axes: readonly number[];
  } | null;
}

/** Counts the nodules whose diameter (in voxels) is larger than `crop` on at least one axis. */
export function nodulesLargerThanCrop(series: readonly SeriesSummary[], crop: Shape3): NodulesLargerThanCrop {
  let count = 0;
  let of = 0;
  let example: NodulesLargerThanCrop['example'] = null;
  for (const entry of series) {
    entry.nodules.forEach((nodule, row) => {
      of++;
      const axes = [0, 1, 2].filter((axis) => nodule.diameter > crop[axis]!);
      if (axes.length === 0) return;
      count++;
      if (example === null || nodule.diameter > example.diameter) {
        example = { uid: entry.uid, row, diameter: nodule.diameter, axes };
      }
    });
  }
  return { count, of, example };
}

/**
 * "3 of 120 nodules are larger than the crop 16x96x96 on an axis (largest: <uid> row 2, diameter 30 > 16 on
 * axis 0); ...", or null when every nodule fits.
 */
export function describeNodulesLargerThanCrop(found: NodulesLargerThanCrop, crop: Shape3): string | null {
  const { count, of, example } = found;
  if (example === null) return null;
  const exceeded = example.axes.map((axis) => `${crop[axis]} on axis ${axis}`).join(', ');
  return `${count} of ${of} nodules are larger than the crop ${crop.join('x')} on an axis (largest: ${example.uid} row ${example.row}, diameter ${Math.round(example.diameter * 100) / 100} > ${exceeded}); crops of this size cannot hold them whole (jitter crops centre them on that axis); use a larger crop where they must fit`;
}
