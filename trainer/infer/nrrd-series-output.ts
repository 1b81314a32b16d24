import { NrrdSlabWriter, TileMerger } from '@voxelfeed/client';
import type { InferEncoding, InferWeighting } from './infer-config.js';
import type { SeriesOutput, SeriesStart } from './infer-tiles.js';

export interface NrrdOutputOptions {
  readonly weighting: InferWeighting;
  /** null: probabilities as uint8 0..255; t: a 0/1 mask of p >= t. */
  readonly threshold: number | null;
  readonly encoding: InferEncoding;
}

/**
 * One series' streaming merge into `file`: the client's TileMerger hands each finished axis-0 slab to its
 * NrrdSlabWriter, which spools it and writes the NRRD (input axis order, sizes and spacing) when the series
 * is done. `peakBytes` is the merger's own: the memory that must not grow with the volume.
 */
export async function openNrrdSeriesOutput(
  start: SeriesStart,
  file: string,
  options: NrrdOutputOptions,
): Promise<SeriesOutput> {
  const writer = await NrrdSlabWriter.create({
    path: file,
    volumeShape: start.volumeShape,
    spacing: start.spacing,
    seriesUid: start.uid,
    encoding: options.encoding,
    ...(options.threshold === null ? {} : { threshold: options.threshold }),
  });
  let merger: TileMerger;
  try {
    merger = new TileMerger({
      volumeShape: start.volumeShape,
      tileShape: start.tileShape,
      weighting: options.weighting,
      sink: writer.write,
    });
  } catch (error) {
    await writer.abort();
    throw error;
  }
  return {
    add: (origin, prediction) => merger.add(origin, prediction),
    async finish() {
      await merger.finish();
      await writer.close();
      return { path: file, peakBytes: merger.peakBytes, writerPeakBytes: writer.peakBytes };
    },
    abort: () => writer.abort(),
  };
}
