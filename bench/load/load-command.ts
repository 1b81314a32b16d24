import path from 'node:path';
import { usageMessage } from '../../common/cli/usage-message.js';
import { startEmbeddedServer } from './embedded-server.js';
import { LOAD_COMMAND, LOAD_HELP, type LoadOptions, parseLoadOptions } from './load-options.js';
import { formatLoadReport } from './load-report.js';
import { findOnPath, GHZ_CONFIG_DIR, GHZ_CONFIGS, ghzArgs, runGhz } from './run-ghz.js';
import { runLoad } from './run-load.js';

export interface LoadCommandIo {
  /** The report (stdout). */
  readonly out: (text: string) => void;
  /** Usage errors and progress notes (stderr). */
  readonly err: (text: string) => void;
}

/**
 * `npm run load`: parses the options, starts the embedded server unless --target names one, runs ghz when
 * it is on PATH (unless --no-ghz) or else the built-in runner, prints the report and returns the exit
 * status: 0 when every call succeeded, 1 when some failed (or ghz failed), 2 for a bad command line.
 */
export async function runLoadCommand(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: LoadCommandIo,
): Promise<number> {
  let options: LoadOptions;
  try {
    const parsed = parseLoadOptions(argv);
    if (parsed === 'help') {
      io.out(`${LOAD_HELP}\n`);
      return 0;
    }
    options = parsed;
  } catch (error) {
    const message = usageMessage(error, LOAD_COMMAND.name);
    if (message === null) throw error;
    io.err(`load: ${message}\n`);
    return 2;
  }
  const ghz = options.useGhz ? await findOnPath('ghz', env) : null;
  if (options.target === null) {
    io.err('starting a server in this process with the embedded phantom data set (generated on first use)\n');
  }
  const server = options.target === null ? await startEmbeddedServer(env) : null;
  const target = options.target ?? server!.address;
  try {
    if (ghz !== null) {
      const config = path.join(GHZ_CONFIG_DIR, GHZ_CONFIGS[options.call]);
      const args = ghzArgs(options, target, config);
      io.err(
        `ghz found at ${ghz}; running it with ${path.relative(process.cwd(), config)} for ${options.durationSeconds} s ` +
          `(--duration; ghz ignores a call count when it has a duration, so --total ${options.total} does not apply; ` +
          `--no-ghz: the built-in client, which stops at --total or --duration, whichever comes first)\n`,
      );
      const exitCode = await runGhz(ghz, args, env, io.out);
      io.out(
        `\n${JSON.stringify({ tool: 'ghz', call: options.call, target, ghz, config, args, exit_code: exitCode })}\n`,
      );
      return exitCode === 0 ? 0 : 1;
    }
    const result = await runLoad(options, target);
    io.out(
      formatLoadReport(
        result,
        server === null ? 'given by --target' : 'in this process, embedded phantom data set',
      ),
    );
    return result.ok === result.calls ? 0 : 1;
  } finally {
    await server?.stop();
  }
}
