import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { buildCatalog } from '../dataset/catalog/build-catalog.js';
import type { CatalogSeries } from '../dataset/catalog/catalog.js';
import { isVoxelfeedError, VoxelfeedError } from '../errors.js';
import { EVALUATE_HELP, type EvaluateOptions, parseEvaluateOptions } from './evaluate-options.js';
import { evaluateSeries, type SeriesEvaluation } from './evaluate-series.js';
import {
  type EvaluationReport,
  evaluationJson,
  formatEvaluationTable,
  type NotEvaluated,
} from './evaluation-report.js';
import { computeFroc } from './froc.js';
import { drawFrocRaster } from './froc-raster.js';
import { readPrediction, readTruthMask } from './read-prediction.js';
import { writeRasterPng } from './write-froc-png.js';

export const PREDICTION_SUFFIX = '_pred.nrrd';
/** How many names a line lists before it says "and N more". */
const LISTED = 3;

/** `voxelfeed evaluate`: scores the predictions in --pred against the data set in --data. */
export async function runEvaluate(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  const options = parseEvaluateOptions(argv, env);
  if (options === 'help') {
    process.stdout.write(`${EVALUATE_HELP}\n`);
    return 0;
  }
  const catalog = await buildCatalog({ source: options.data });
  const predicted = await listPredictions(options.pred);
  const { selected, missing, failures } = selectSeries(catalog.series, predicted, options);
  const warnings: string[] = [];
  const refused: NotEvaluated[] = [];
  const evaluated: SeriesEvaluation[] = [];
  for (const series of selected) {
    try {
      evaluated.push(await evaluateFile(series, options));
    } catch (error) {
      if (!isVoxelfeedError(error)) throw error;
      refused.push({ uid: series.uid, reason: error.message });
    }
  }
  const unknown = [...predicted].filter((uid) => !catalog.series.some((series) => series.uid === uid));
  if (unknown.length > 0 && options.series === null) {
    warnings.push(
      `${unknown.length} prediction files are of no series of ${options.data} (${listed(unknown)}); they were not evaluated`,
    );
  }
  if (missing.length > 0 && options.series === null) {
    warnings.push(
      `${missing.length} of ${catalog.series.length} series have no <uid>${PREDICTION_SUFFIX} in ${options.pred} and were not evaluated (${listed(missing.map((entry) => entry.uid))}); predict them with voxelfeed infer, or name the series to score with --series`,
    );
  }
  for (const entry of refused) failures.push(`${entry.uid}: ${entry.reason}`);
  if (evaluated.length === 0) {
    failures.push(
      `no series could be evaluated; ${options.pred} holds no usable prediction of ${options.data}`,
    );
  }

  const froc = computeFroc(evaluated);
  if (options.frocPng !== null && evaluated.length > 0) {
    await writeRasterPng(drawFrocRaster(froc.curve), options.frocPng);
  }
  const report: EvaluationReport = {
    data: options.data,
    pred: options.pred,
    threshold: options.threshold,
    series: evaluated,
    froc,
    missing: options.series === null ? [] : missing,
    refused,
    frocPng: evaluated.length > 0 ? options.frocPng : null,
  };
  if (evaluated.length > 0) {
    if (!options.json) process.stdout.write(`${formatEvaluationTable(report)}\n\n`);
    process.stdout.write(`${JSON.stringify(evaluationJson(report))}\n`);
  }
  for (const line of [...warnings.map((text) => `warning: ${text}`), ...failures]) {
    process.stderr.write(`voxelfeed evaluate: ${line}\n`);
  }
  return failures.length > 0 ? 1 : 0;
}

/** The uids that have a `<uid>_pred.nrrd` in `dir`. */
async function listPredictions(dir: string): Promise<Set<string>> {
  const problem = await stat(dir).then(
    (info) => (info.isDirectory() ? null : 'is not a folder'),
    (error: NodeJS.ErrnoException) =>
      error.code === 'ENOENT' || error.code === 'ENOTDIR'
        ? 'does not exist'
        : `cannot be read (${error.code})`,
  );
  if (problem !== null) {
    throw new VoxelfeedError(
      'NOT_FOUND',
      `prediction folder ${dir} ${problem}; pass --pred the folder voxelfeed infer wrote its <uid>${PREDICTION_SUFFIX} files to`,
    );
  }
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    throw new VoxelfeedError(
      'NOT_FOUND',
      `prediction folder ${dir} cannot be listed (${error.code}); check its permissions`,
      { cause: error },
    );
  });
  const uids = names
    .filter((name) => name.endsWith(PREDICTION_SUFFIX))
    .map((name) => name.slice(0, -PREDICTION_SUFFIX.length));
  if (uids.length === 0) {
    throw new VoxelfeedError(
      'NOT_FOUND',
      `prediction folder ${dir} holds no <uid>${PREDICTION_SUFFIX} file; predict the series with voxelfeed infer first, or pass the folder it wrote to`,
    );
  }
  return new Set(uids);
}

interface Selection {
  readonly selected: CatalogSeries[];
  readonly missing: NotEvaluated[];
  /** Lines that make the exit status 1. */
  readonly failures: string[];
}

/**
 * The series to evaluate: those named with --series (each must be served from --data and have a prediction:
 * anything else is a failure), or every series of the data set that has a prediction file.
 */
function selectSeries(
  catalog: readonly CatalogSeries[],
  predicted: ReadonlySet<string>,
  options: EvaluateOptions,
): Selection {
  const byUid = new Map(catalog.map((series) => [series.uid, series]));
  const failures: string[] = [];
  const missing: NotEvaluated[] = [];
  const selected: CatalogSeries[] = [];
  const wanted = options.series ?? catalog.map((series) => series.uid);
  for (const uid of wanted) {
    const series = byUid.get(uid);
    if (series === undefined) {
      failures.push(
        `--series ${uid}: no such series in ${options.data}; run voxelfeed index ${options.data} to list its series and the skipped ones`,
      );
    } else if (!predicted.has(uid)) {
      missing.push({
        uid,
        reason: `no ${path.join(options.pred, uid + PREDICTION_SUFFIX)}; predict it with voxelfeed infer (--series ${uid})`,
      });
    } else {
      selected.push(series);
    }
  }
  if (options.series !== null) for (const entry of missing) failures.push(`${entry.uid}: ${entry.reason}`);
  return { selected, missing, failures };
}

async function evaluateFile(series: CatalogSeries, options: EvaluateOptions): Promise<SeriesEvaluation> {
  const file = path.join(options.pred, series.uid + PREDICTION_SUFFIX);
  const prediction = await readPrediction(file, series.shape, series.imagePath);
  const truth = await readTruthMask(series.maskPath);
  return evaluateSeries({
    uid: series.uid,
    shape: series.shape,
    truth,
    prediction: prediction.values,
    kind: prediction.kind,
    threshold: options.threshold,
    nodules: series.nodules,
    spacing: series.spacing ?? prediction.spacing,
  });
}

function listed(names: readonly string[]): string {
  const shown = names.slice(0, LISTED).join(', ');
  return names.length > LISTED ? `${shown} and ${names.length - LISTED} more` : shown;
}
