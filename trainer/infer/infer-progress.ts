import cliProgress from 'cli-progress';
import type { InferListener, SeriesResult, SeriesStart } from './infer-tiles.js';

export interface InferProgress extends InferListener {
  /** Removes the bars (or prints nothing more); call once, after the last series or on failure. */
  stop(): void;
}

/** Progress nobody sees: --progress off. */
export const NO_PROGRESS: InferProgress = {
  seriesStarted: () => {},
  tilesDone: () => {},
  seriesFinished: () => {},
  stop: () => {},
};

/**
 * Two bars on a terminal (cli-progress): the series under way in tiles, and the whole run in series with the
 * tiles so far; redrawn in place on `stream`.
 */
export function barProgress(stream: NodeJS.WriteStream): InferProgress {
  const bars = new cliProgress.MultiBar(
    { stream, hideCursor: true, clearOnComplete: false, etaBuffer: 50, autopadding: true },
    cliProgress.Presets.shades_classic,
  );
  let overall: cliProgress.SingleBar | null = null;
  let current: cliProgress.SingleBar | null = null;
  let tiles = 0;
  return {
    seriesStarted(series) {
      overall ??= bars.create(
        series.count,
        0,
        { tiles: 0 },
        { format: 'all series  {bar} {value}/{total} series, {tiles} tiles, {duration_formatted}' },
      );
      current = bars.create(
        series.tilesInSeries,
        0,
        { uid: shortUid(series.uid) },
        { format: 'this series {bar} {value}/{total} tiles, eta {eta_formatted}  {uid}' },
      );
    },
    tilesDone(count) {
      tiles += count;
      current?.increment(count);
      overall?.update({ tiles });
    },
    seriesFinished() {
      if (current !== null) bars.remove(current);
      current = null;
      overall?.increment(1, { tiles });
    },
    stop: () => bars.stop(),
  };
}

/**
 * Plain lines for a log file or a pipe (no terminal): one when a series starts, one every `everyMs` while it
 * runs, one when it is written.
 */
export function lineProgress(
  write: (line: string) => void,
  now: () => number,
  everyMs = 5000,
): InferProgress {
  let series: SeriesStart | null = null;
  let tiles = 0;
  let lastLineAt = 0;
  const prefix = (s: SeriesStart) => `series ${s.index + 1}/${s.count} ${s.uid}`;
  return {
    seriesStarted(start) {
      series = start;
      tiles = 0;
      lastLineAt = now();
      write(
        `${prefix(start)}: ${start.tilesInSeries} tiles of ${start.tileShape.join('x')} over ${start.volumeShape.join('x')}`,
      );
    },
    tilesDone(count) {
      tiles += count;
      if (series === null || now() - lastLineAt < everyMs) return;
      lastLineAt = now();
      const share = (100 * tiles) / series.tilesInSeries;
      write(`${prefix(series)}: ${tiles}/${series.tilesInSeries} tiles (${share.toFixed(0)}%)`);
    },
    seriesFinished(result: SeriesResult) {
      const label = series === null ? result.uid : prefix(series);
      write(`${label}: ${result.tiles} tiles in ${result.seconds.toFixed(1)} s, wrote ${result.path}`);
      series = null;
    },
    stop: () => {},
  };
}

/** The end of a long DICOM uid, which is where series differ. */
function shortUid(uid: string): string {
  return uid.length <= 24 ? uid : `...${uid.slice(-21)}`;
}
