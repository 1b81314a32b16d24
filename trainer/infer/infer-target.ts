import { VoxelfeedError } from '@voxelfeed/common/voxelfeed-error.js';

/** Which series to predict: the ones named, or those held out at a share (SPLIT_PART_HOLDOUT). */
export type InferTarget =
  | { readonly kind: 'series'; readonly uids: readonly string[] }
  | { readonly kind: 'holdout'; readonly fraction: number; readonly source: string };

/**
 * --series, else --holdout, else the share the checkpoint was trained with. A checkpoint trained on every
 * series (held-out share 0), one written before the share was recorded, or the identity model (no checkpoint)
 * cannot say which series are held out: refused, naming the two options that can.
 */
export function inferTarget(
  options: { readonly series: readonly string[] | null; readonly holdoutFraction: number | null },
  checkpoint: { readonly dir: string; readonly holdoutFraction: number | undefined } | null,
): InferTarget {
  if (options.series !== null) return { kind: 'series', uids: options.series };
  if (options.holdoutFraction !== null) {
    return {
      kind: 'holdout',
      fraction: options.holdoutFraction,
      source: `--holdout ${options.holdoutFraction}`,
    };
  }
  const fix = 'name the series with --series UID[,UID...] or pick the held-out share with --holdout F';
  if (checkpoint === null) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `--model identity has no checkpoint to say which series were held out; ${fix}`,
    );
  }
  const recorded = checkpoint.holdoutFraction;
  if (recorded === undefined) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `--checkpoint ${checkpoint.dir} does not record the share of series held out of training (written by an older voxelfeed train); ${fix}`,
    );
  }
  if (recorded === 0) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `--checkpoint ${checkpoint.dir} was trained on every series (no --validate-every, so none held out); ${fix}`,
    );
  }
  return { kind: 'holdout', fraction: recorded, source: `the checkpoint's --holdout ${recorded}` };
}
