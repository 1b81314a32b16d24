import type { SplitPartName, StreamBatchesInput } from '@voxelfeed/client';
import { type OptionTable, option } from '@voxelfeed/common/cli/command-spec.js';
import { choice, decimal, integer, text, triple } from '@voxelfeed/common/cli/option-kinds.js';
import type { CommandLine } from '@voxelfeed/common/cli/parse-command-line.js';

const count = (min: number, max: number, example: string, placeholder = 'N') =>
  integer({ min, max, example, placeholder });
const probability = (example: string) => decimal({ min: 0, max: 1, placeholder: 'P', example });

/**
 * The rows of a StreamBatches request that the commands looking at what a server serves share (preview,
 * stats): the same names and defaults as `voxelfeed train` where train has them, so a user can look at
 * exactly the batches a training run gets by passing it the same flags. Sampling probabilities left unset
 * take the server's defaults (jitter 0.5, negative 0.4, centre 0.1); set ones must sum to 1, which the
 * server checks and reports.
 */
export const BATCH_REQUEST_OPTIONS = {
  dataset: option({
    kind: text({ placeholder: 'NAME', example: 'luna16' }),
    default: null,
    variable: 'VOXELFEED_DATASET',
    help: "data set name (default: the server's default)",
  }),
  seed: option({ kind: count(0, Number.MAX_SAFE_INTEGER, '42', 'S'), default: 0, help: 'sampling seed' }),
  epoch: option({ kind: count(0, 4_294_967_295, '0', 'E'), default: 0, help: 'epoch' }),
  'start-step': option({
    kind: count(0, Number.MAX_SAFE_INTEGER, '0', 'K'),
    default: 0,
    help: 'first step',
  }),
  steps: option({
    kind: count(0, Number.MAX_SAFE_INTEGER, '10'),
    default: 0,
    help: 'steps to stream ({default}: to the end of the epoch)',
  }),
  rank: option({ kind: count(0, 65_535, '0', 'R'), default: 0, help: 'rank 0..W-1' }),
  'world-size': option({ kind: count(1, 65_536, '4', 'W'), default: 1, help: 'number of ranks' }),
  batch: option({ kind: count(1, 4096, '2', 'B'), default: 2, help: 'samples per step and rank' }),
  crop: option({
    kind: triple({ min: 1, example: '16,96,96' }),
    default: [16, 96, 96],
    help: 'crop size in NRRD axis order',
  }),
  'jitter-prob': option({
    kind: probability('0.5'),
    default: null,
    help: 'share of nodule items cropped with the nodule jittered inside the crop (server default 0.5)',
  }),
  'center-prob': option({
    kind: probability('0.1'),
    default: null,
    help: 'share cropped with the nodule at the centre (server default 0.1)',
  }),
  'negative-prob': option({
    kind: probability('0.4'),
    default: null,
    help: 'share cropped anywhere in the volume (server default 0.4)',
  }),
  'samples-per-nodule': option({
    kind: count(0, 1_000_000, '1'),
    default: 0,
    help: 'items per nodule per epoch ({default}: the server default, 1)',
  }),
  negatives: option({
    kind: count(0, 1_000_000, '100'),
    default: 0,
    help: 'negative crops per epoch on top of one per nodule',
  }),
  'shuffle-window': option({
    kind: count(0, 1_000_000, '64'),
    default: 0,
    help: 'cache-aware order: shuffle within windows of N series ({default}: full shuffle)',
  }),
  holdout: option({
    kind: decimal({ min: 0, max: 0.9, placeholder: 'F', example: '0.2' }),
    default: null,
    help: 'share of series held out, as voxelfeed train --holdout (default: no split)',
  }),
  part: option({
    kind: choice(['all', 'train', 'holdout'] as const, { placeholder: 'all|train|holdout' }),
    default: 'all',
    help: 'which part of the --holdout split to draw from ({default})',
  }),
} satisfies OptionTable;

/**
 * The StreamBatches request the rows describe (mask included: both commands look at it). A `--part` other
 * than all without --holdout, or a rank not below the world size, is a problem added to `problems`.
 */
export function batchRequestInput(
  line: CommandLine<typeof BATCH_REQUEST_OPTIONS>,
  problems: string[],
): StreamBatchesInput {
  const { values } = line;
  const part: SplitPartName = values.part;
  if (part !== 'all' && values.holdout === null) {
    problems.push(
      `${line.shown('part')} needs --holdout F, the share of series held out; e.g. --holdout 0.2`,
    );
  }
  if (values.rank >= values['world-size']) {
    problems.push(
      `${line.shown('rank')} is not below ${line.shown('world-size')}: ranks run 0..W-1; e.g. --rank 0 --world-size 2`,
    );
  }
  const sampling = {
    ...(values['jitter-prob'] !== null ? { jitterProb: values['jitter-prob'] } : {}),
    ...(values['center-prob'] !== null ? { centerProb: values['center-prob'] } : {}),
    ...(values['negative-prob'] !== null ? { negativeProb: values['negative-prob'] } : {}),
    samplesPerNodule: values['samples-per-nodule'],
    negativesPerEpoch: values.negatives,
    shuffleWindow: values['shuffle-window'],
  };
  return {
    ...(values.dataset !== null ? { dataset: values.dataset } : {}),
    seed: values.seed,
    epoch: values.epoch,
    rank: values.rank,
    worldSize: values['world-size'],
    batchSize: values.batch,
    cropSize: values.crop,
    sampling,
    includeMask: true,
    startStep: values['start-step'],
    maxSteps: values.steps,
    ...(values.holdout !== null ? { split: { holdoutFraction: values.holdout, part } } : {}),
  };
}
