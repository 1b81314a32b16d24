import { UsageError } from '../common/usage-error.js';
import { isVoxelfeedError, VoxelfeedError } from '../server/errors.js';

export const USAGE = `Usage: voxelfeed <command> [options]

Commands:
  serve    serve 3D crops of a data set over gRPC (default: an embedded phantom data set)
  synth    write a LUNA16-like phantom data set (gzip NRRD volumes and masks, .npy boxes)
  index    index a data set folder or manifest and print its summary and any bad series
  train    train a V-Net (TensorFlow.js) as one rank, on batches streamed by a server
  demo     the whole system in one command: a phantom data set, a server, two trainer ranks, a summary

Run voxelfeed <command> --help for the options of one command.`;

type Command = (argv: readonly string[], env: NodeJS.ProcessEnv) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('../server/main.js')).runServe,
  synth: async () => (await import('../server/synth/run-synth.js')).runSynth,
  index: async () => (await import('../server/dataset/run-index.js')).runIndex,
  train: async () => (await import('../trainer/main.js').catch(trainerMissing)).runTrain,
  demo: async () => (await import('./demo/run-demo.js')).runDemo,
};

/**
 * The server image and other server-only installs have no @voxelfeed/trainer package (it brings TensorFlow.js):
 * `voxelfeed train` there says so in one line instead of Node's module-resolution stack.
 */
function trainerMissing(error: unknown): never {
  if (error instanceof Error && 'code' in error && error.code === 'ERR_MODULE_NOT_FOUND') {
    if (error.message.includes("'@voxelfeed/trainer'")) {
      throw new VoxelfeedError(
        'FAILED_PRECONDITION',
        'the trainer is not installed here (no @voxelfeed/trainer package, as in the server image); ' +
          'run train from the trainer image, a checkout, or an install that includes @voxelfeed/trainer',
        { cause: error },
      );
    }
  }
  throw error;
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
    if (error instanceof UsageError) {
      process.stderr.write(`voxelfeed ${name}: ${error.message}\n`);
      return 2;
    }
    if (isVoxelfeedError(error)) {
      process.stderr.write(`voxelfeed ${name}: ${error.message}\n`);
      return error.code === 'INVALID_ARGUMENT' ? 2 : 1;
    }
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`voxelfeed ${name}: ${error.message}\nRun voxelfeed ${name} --help for usage.\n`);
      return 2;
    }
    throw error;
  }
}
