import path from 'node:path';
import { VoxelfeedError } from '@voxelfeed/common/voxelfeed-error.js';
import { type Checkpoint, loadLatestCheckpoint } from '../checkpoint/checkpoint-store.js';
import type { VNetConfig } from '../model/vnet-config.js';

/** What inference needs of a trainer checkpoint: its weights, the V-Net they fit, and how it was trained. */
export interface InferenceCheckpoint {
  /** The folder given (--checkpoint), for messages. */
  readonly dir: string;
  /** `step-000000200`, for the log and the summary. */
  readonly name: string;
  readonly globalStep: number;
  readonly model: VNetConfig;
  readonly variables: Checkpoint['variables'];
  /** The training crop: the default tile. */
  readonly cropSize: readonly [number, number, number];
  /** The share of series held out of training; undefined: a checkpoint written before it was recorded. */
  readonly holdoutFraction: number | undefined;
  /** The data set trained on ('' : the server's default); undefined when not recorded. */
  readonly dataset: string | undefined;
}

/**
 * The latest checkpoint of a `voxelfeed train --checkpoint-dir`, checked for what inference reads from its
 * meta. A folder without one, or a meta without a model or crop, is a one-line error naming the folder.
 */
export async function readInferenceCheckpoint(dir: string): Promise<InferenceCheckpoint> {
  let checkpoint: Checkpoint | null;
  try {
    checkpoint = await loadLatestCheckpoint(dir);
  } catch (error) {
    throw new VoxelfeedError(
      'FAILED_PRECONDITION',
      `--checkpoint ${dir}: ${(error as Error).message.split('\n')[0]}`,
      { cause: error },
    );
  }
  if (checkpoint === null) {
    throw new VoxelfeedError(
      'FAILED_PRECONDITION',
      `--checkpoint ${dir}: no checkpoint there (no ${path.join(dir, 'latest.json')}); pass the folder given to voxelfeed train --checkpoint-dir, after training has written a checkpoint`,
    );
  }
  const meta = checkpoint.meta;
  const model = meta['model'];
  const crop = meta['cropSize'];
  if (typeof model !== 'object' || model === null || typeof (model as VNetConfig).depth !== 'number') {
    throw notTrainer(dir, 'no V-Net config (meta.model)');
  }
  if (!isTriple(crop)) throw notTrainer(dir, 'no training crop (meta.cropSize)');
  const holdout = meta['holdoutFraction'];
  const dataset = meta['dataset'];
  return {
    dir,
    name: `step-${String(checkpoint.globalStep).padStart(9, '0')}`,
    globalStep: checkpoint.globalStep,
    model: model as VNetConfig,
    variables: checkpoint.variables,
    cropSize: crop,
    holdoutFraction: typeof holdout === 'number' ? holdout : undefined,
    dataset: typeof dataset === 'string' ? dataset : undefined,
  };
}

function isTriple(value: unknown): value is readonly [number, number, number] {
  return (
    Array.isArray(value) &&
    value.length === 3 &&
    value.every((side) => Number.isSafeInteger(side) && (side as number) > 0)
  );
}

function notTrainer(dir: string, what: string): VoxelfeedError {
  return new VoxelfeedError(
    'FAILED_PRECONDITION',
    `--checkpoint ${dir}: the latest checkpoint has ${what}; it was not written by voxelfeed train`,
  );
}
