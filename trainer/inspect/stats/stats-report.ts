import { formatTable } from '@voxelfeed/common/format-table.js';
import { type AxisPosition, type CropStats, type ModeStats, STATS_ROWS } from './crop-stats.js';

/** What a stats run counted: the figures, and the request and stream they come from. */
export interface StatsSummary {
  readonly stats: CropStats;
  readonly cropSize: readonly [number, number, number];
  readonly steps: number;
  readonly rank: number;
  readonly worldSize: number;
  readonly epoch: number;
  readonly seconds: number;
  /** Bytes of the batches received. */
  readonly wireBytes: number;
}

/**
 * One row per crop mode and one for all crops, then the line on negative crops: what `voxelfeed stats`
 * prints on stdout before its JSON line.
 */
export function statsTable(summary: StatsSummary): string {
  const rows = STATS_ROWS.filter((row) => row === 'all' || summary.stats[row].crops > 0).map((row) => {
    const s = summary.stats[row];
    return [
      row,
      s.crops,
      share(s.withForeground, s.crops),
      share(s.wholeNodule, s.drawnForNodule),
      `${fixed(s.foregroundVoxels.mean, 0)} / ${fixed(s.foregroundVoxels.median, 0)} / ${fixed(s.foregroundVoxels.p90, 0)}`,
      ...s.centre.map(position),
    ];
  });
  const table = formatTable(
    [
      'mode',
      'crops',
      'any nodule voxel',
      'whole nodule',
      'fg voxels mean/median/p90',
      'centre axis 0',
      'centre axis 1',
      'centre axis 2',
    ],
    rows,
  );
  const negative = summary.stats.negative;
  return [
    `${summary.steps} steps of rank ${summary.rank}/${summary.worldSize}, epoch ${summary.epoch}, crop ${summary.cropSize.join('x')}`,
    table,
    `negative crops touching a nodule: ${negative.withForeground} of ${negative.crops}${negative.crops > 0 ? ` (${share(negative.withForeground, negative.crops)})` : ''}`,
  ].join('\n');
}

/** The JSON line: every figure, snake_case as the other commands' lines. */
export function statsJson(summary: StatsSummary): Record<string, unknown> {
  const modes = Object.fromEntries(STATS_ROWS.map((row) => [row, modeJson(summary.stats[row])]));
  return {
    steps: summary.steps,
    rank: summary.rank,
    world_size: summary.worldSize,
    epoch: summary.epoch,
    crop: summary.cropSize,
    crops: summary.stats.all.crops,
    negative_touching_nodule: summary.stats.negative.withForeground,
    modes,
    seconds: Number(summary.seconds.toFixed(3)),
    wire_bytes: summary.wireBytes,
  };
}

function modeJson(s: ModeStats): Record<string, unknown> {
  return {
    crops: s.crops,
    drawn_for_nodule: s.drawnForNodule,
    with_foreground: s.withForeground,
    with_foreground_share: ratio(s.withForeground, s.crops),
    whole_nodule: s.wholeNodule,
    whole_nodule_share: ratio(s.wholeNodule, s.drawnForNodule),
    foreground_voxels: s.foregroundVoxels,
    centre_position: s.centre.map((axis) => ({
      mean: axis.mean,
      std: axis.std,
      histogram: axis.histogram,
      below: axis.below,
      above: axis.above,
    })),
  };
}

function ratio(count: number, of: number): number | null {
  return of > 0 ? count / of : null;
}

function share(count: number, of: number): string {
  return of > 0 ? `${((100 * count) / of).toFixed(1)}%` : '-';
}

function fixed(value: number | null, digits: number): string {
  return value === null ? '-' : value.toFixed(digits);
}

/** Mean ± standard deviation of the centre's place, 0..1 along the crop. */
function position(axis: AxisPosition): string {
  return axis.mean === null ? '-' : `${axis.mean.toFixed(2)} ± ${(axis.std ?? 0).toFixed(2)}`;
}
