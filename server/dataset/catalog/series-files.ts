/** The three files of one series, before any of them is opened. */
export interface SeriesFiles {
  readonly uid: string;
  readonly imagePath: string | null;
  readonly maskPath: string | null;
  readonly boxesPath: string | null;
}

/** A series that will not be served, and why (the message names the file and the fix). */
export interface SkippedSeries {
  readonly uid: string;
  readonly reason: string;
}
