import { formatTable } from '@voxelfeed/common/format-table.js';
import type { SeriesEvaluation } from './evaluate-series.js';
import { FROC_RATES, type Froc } from './froc.js';

/** A series asked for that was not evaluated, and why (the line names the file and the fix). */
export interface NotEvaluated {
  readonly uid: string;
  readonly reason: string;
}

/** Everything `voxelfeed evaluate` found, ready to print. */
export interface EvaluationReport {
  readonly data: string;
  readonly pred: string;
  readonly threshold: number;
  readonly series: readonly SeriesEvaluation[];
  readonly froc: Froc;
  /** Series without a prediction file. */
  readonly missing: readonly NotEvaluated[];
  /** Series whose prediction could not be used: unreadable, wrong shape. */
  readonly refused: readonly NotEvaluated[];
  readonly frocPng: string | null;
}

export interface EvaluationTotals {
  readonly series: number;
  readonly nodules: number;
  readonly found: number;
  readonly falsePositives: number;
  /** Found over nodules at the threshold; null without nodules. */
  readonly sensitivity: number | null;
  readonly falsePositivesPerScan: number | null;
  /** Mean of the series' Dice where it is defined; null when it is nowhere. */
  readonly meanDice: number | null;
  /** How distances were measured: `mixed` when some series had a spacing and some not. */
  readonly distance: 'mm' | 'voxels' | 'mixed' | null;
}

const RATE_LABELS = ['1/8', '1/4', '1/2', '1', '2', '4', '8'];

export function evaluationTotals(series: readonly SeriesEvaluation[]): EvaluationTotals {
  const sum = (pick: (entry: SeriesEvaluation) => number): number =>
    series.reduce((total, entry) => total + pick(entry), 0);
  const nodules = sum((entry) => entry.nodules);
  const found = sum((entry) => entry.found);
  const falsePositives = sum((entry) => entry.falsePositives);
  const dices = series.flatMap((entry) => (entry.dice === null ? [] : [entry.dice]));
  const units = new Set(series.map((entry) => entry.distance));
  return {
    series: series.length,
    nodules,
    found,
    falsePositives,
    sensitivity: nodules === 0 ? null : found / nodules,
    falsePositivesPerScan: series.length === 0 ? null : falsePositives / series.length,
    meanDice: dices.length === 0 ? null : dices.reduce((a, b) => a + b, 0) / dices.length,
    distance: units.size === 0 ? null : units.size > 1 ? 'mixed' : [...units][0]!,
  };
}

/** The report as text for a person: one row per series, the totals and the FROC points. */
export function formatEvaluationTable(report: EvaluationReport): string {
  const totals = evaluationTotals(report.series);
  const rows = report.series.map((entry) => [
    entry.uid,
    fixed(entry.dice),
    entry.nodules,
    entry.found,
    entry.falsePositives,
    entry.components,
  ]);
  rows.push([
    `total (${totals.series} series, mean Dice)`,
    fixed(totals.meanDice),
    totals.nodules,
    totals.found,
    totals.falsePositives,
    report.series.reduce((sum, entry) => sum + entry.components, 0),
  ]);
  const { froc } = report;
  const lines = [
    formatTable(['series', 'dice', 'nodules', 'found', 'false positives', 'components'], rows),
    '',
    `threshold ${report.threshold}: sensitivity ${fraction(totals.found, totals.nodules)}, ` +
      `${fixed(totals.falsePositivesPerScan, 2)} false positives per scan; ` +
      `distances in ${totals.distance === 'mixed' ? 'mm where the header gives a spacing, else voxels' : (totals.distance ?? 'voxels')}`,
    '',
    formatTable(
      ['false positives per scan', ...RATE_LABELS, 'mean'],
      [['sensitivity (FROC)', ...froc.sensitivities.map((value) => fixed(value)), fixed(froc.mean)]],
    ),
  ];
  for (const entry of report.missing) lines.push(`not evaluated: ${entry.uid}: ${entry.reason}`);
  for (const entry of report.refused) lines.push(`refused: ${entry.uid}: ${entry.reason}`);
  if (report.frocPng !== null) lines.push(`FROC curve: ${report.frocPng}`);
  return lines.join('\n');
}

/** The report as one JSON object (snake_case keys, as voxelfeed index --json writes). */
export function evaluationJson(report: EvaluationReport): Record<string, unknown> {
  const totals = evaluationTotals(report.series);
  return {
    data: report.data,
    pred: report.pred,
    threshold: report.threshold,
    distance: totals.distance,
    series: report.series.map((entry) => ({
      uid: entry.uid,
      dice: entry.dice,
      nodules: entry.nodules,
      found: entry.found,
      false_positives: entry.falsePositives,
      components: entry.components,
      distance: entry.distance,
    })),
    totals: {
      series: totals.series,
      nodules: totals.nodules,
      found: totals.found,
      false_positives: totals.falsePositives,
      sensitivity: totals.sensitivity,
      false_positives_per_scan: totals.falsePositivesPerScan,
      mean_dice: totals.meanDice,
    },
    froc: {
      rates: FROC_RATES,
      sensitivities: report.froc.sensitivities,
      mean: report.froc.mean,
    },
    missing: report.missing,
    refused: report.refused,
    froc_png: report.frocPng,
  };
}

function fixed(value: number | null, digits = 3): string {
  return value === null ? '-' : value.toFixed(digits);
}

function fraction(found: number, nodules: number): string {
  return nodules === 0 ? 'none (no nodules)' : `${found}/${nodules} = ${fixed(found / nodules)}`;
}
