import type * as tf from '@tensorflow/tfjs-core';
import type { ProcessGroup } from '../collective/process-group.js';
import type { VNet } from '../model/vnet.js';
import type { DataCursor } from './checkpoint-store.js';
import { readModelState, readOptimizerState, writeModelState, writeOptimizerState } from './model-state.js';
import { decodeStartState, encodeStartState } from './start-state.js';

/**
 * Makes every rank start from rank 0's state, as DistributedDataParallel does: rank 0 sends its weights (and,
 * when it resumed, its optimizer slots), its cursor and global step; the other ranks take them in place of
 * their own. So the ranks hold identical bits before step one whatever their backend or storage, and a resumed
 * job continues with exactly the next batch on every rank although only rank 0 read the checkpoint.
 * World size 1: nothing to agree on.
 */
export async function agreeStartState(
  group: ProcessGroup,
  model: VNet,
  optimizer: tf.Optimizer,
  own: { readonly cursor: DataCursor; readonly globalStep: number; readonly resumed: boolean },
): Promise<{ readonly cursor: DataCursor; readonly globalStep: number }> {
  if (group.worldSize === 1) return { cursor: own.cursor, globalStep: own.globalStep };
  const mine =
    group.rank === 0
      ? encodeStartState({
          cursor: own.cursor,
          globalStep: own.globalStep,
          variables: await readModelState(model),
          optimizer: own.resumed ? await readOptimizerState(model, optimizer) : [],
        })
      : null;
  const received = await group.broadcast(mine, 'start-up state');
  if (group.rank === 0) return { cursor: own.cursor, globalStep: own.globalStep };
  const state = decodeStartState(received);
  writeModelState(model, state.variables);
  if (state.optimizer.length > 0) await writeOptimizerState(model, optimizer, state.optimizer);
  return { cursor: state.cursor, globalStep: state.globalStep };
}
