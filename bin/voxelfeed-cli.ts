import { usageMessage } from '@voxelfeed/common/cli/usage-message.js';
import { isVoxelfeedError, VoxelfeedError } from '@voxelfeed/common/voxelfeed-error.js';

export const USAGE = `Usage: voxelfeed <command> [options]

Commands:
  serve    serve 3D crops of a data set over gRPC (default: an embedded phantom data set)
  synth    write a LUNA16-like phantom data set (gzip NRRD volumes and masks, .npy boxes)
  index    index a data set folder or manifest and print its summary and any bad series
  evaluate score predicted masks against a data set: Dice, nodules found, false positives, FROC
  train    train a V-Net (TensorFlow.js) as one rank, on batches streamed by a server
  infer    predict whole scans tile by tile from a checkpoint, writing <uid>_pred.nrrd per series
  preview  draw a request's crops with mask contours: PNG montages, or a crop browser on 127.0.0.1
  stats    count what an epoch's crops hold per crop mode: nodule voxels, whole nodules, centre positions
  demo     the whole system in one command: a phantom data set, a server, two trainer ranks, a summary

Run voxelfeed <command> --help for the options of one command.`;

type Command = (argv: readonly string[], env: NodeJS.ProcessEnv) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('@voxelfeed/server/main.js').catch(notInstalled('server'))).runServe,
  synth: async () =>
    (await import('@voxelfeed/server/synth/run-synth.js').catch(notInstalled('server'))).runSynth,
  index: async () =>
    (await import('@voxelfeed/server/index-command/run-index.js').catch(notInstalled('server'))).runIndex,
  evaluate: async () =>
    (await import('@voxelfeed/server/evaluate/run-evaluate.js').catch(notInstalled('server'))).runEvaluate,
  train: async () => (await import('@voxelfeed/trainer/main.js').catch(notInstalled('trainer'))).runTrain,
  infer: async () =>
    (await import('@voxelfeed/trainer/infer/run-infer.js').catch(notInstalled('trainer'))).runInfer,
  preview: async () =>
    (await import('@voxelfeed/trainer/inspect/preview/run-preview.js').catch(notInstalled('trainer')))
      .runPreview,
  stats: async () =>
    (await import('@voxelfeed/trainer/inspect/stats/run-stats.js').catch(notInstalled('trainer'))).runStats,
  demo: async () => (await import('./demo/run-demo.js').catch(notInstalled('server', 'trainer'))).runDemo,
};

/**
 * The images install one side each: the server image has no @voxelfeed/trainer package (it brings TensorFlow.js),
 * the trainer image no @voxelfeed/server. A command that needs the missing side (the demo needs both) says so in
 * one line instead of Node's module-resolution stack.
 */
function notInstalled(...sides: readonly ('server' | 'trainer')[]): (error: unknown) => never {
  return (error) => {
    const missing = error instanceof Error && 'code' in error && error.code === 'ERR_MODULE_NOT_FOUND';
    const side = missing ? sides.find((name) => error.message.includes(`'@voxelfeed/${name}`)) : undefined;
    if (side !== undefined) {
      throw new VoxelfeedError(
        'FAILED_PRECONDITION',
        `the ${side} is not installed here (no @voxelfeed/${side} package, as in the ` +
          `${side === 'server' ? 'trainer' : 'server'} image); run it from the ${side} image or a checkout`,
        { cause: error },
      );
    }
    throw error;
  };
}

/** Dispatches to one command's composition root; returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    // A usage error: the text goes with the other errors, to stderr, so `voxelfeed > out` shows it.
    process.stderr.write(`voxelfeed: no command given\n\n${USAGE}\n`);
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const load = COMMANDS[name];
  if (load === undefined) {
    process.stderr.write(`voxelfeed: unknown command "${name}"\n\n${USAGE}\n`);
    return 2;
  }
  try {
    return await (await load())(rest, process.env);
  } catch (error) {
    const usage = usageMessage(error, `voxelfeed ${name}`);
    if (usage !== null) {
      process.stderr.write(`voxelfeed ${name}: ${usage}\n`);
      return 2;
    }
    if (isVoxelfeedError(error)) {
      process.stderr.write(`voxelfeed ${name}: ${error.message}\n`);
      return error.code === 'INVALID_ARGUMENT' ? 2 : 1;
    }
    throw error;
  }
}
