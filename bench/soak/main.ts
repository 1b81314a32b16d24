import os from 'node:os';
import { usageMessage } from '../../common/cli/usage-message.js';
import { benchDataset } from '../bench-data.js';
import { runSoak } from './run-soak.js';
import { parseSoakOptions, SOAK_COMMAND, SOAK_HELP, type SoakOptions } from './soak-options.js';
import { formatSoakReport, soakProblems } from './soak-report.js';

/** The composition root of the soak: options, data set, the run, the report, the exit status. */
async function main(argv: readonly string[]): Promise<number> {
  let options: SoakOptions;
  try {
    const parsed = parseSoakOptions(argv);
    if (parsed === 'help') {
      process.stdout.write(`${SOAK_HELP}\n`);
      return 0;
    }
    options = parsed;
  } catch (error) {
    const message = usageMessage(error, SOAK_COMMAND.name);
    if (message === null) throw error;
    process.stderr.write(`soak: ${message}\n`);
    return 2;
  }
  const dataDir =
    options.data ?? (await benchDataset('soak', { series: options.series, shape: options.shape, seed: 3n }));
  process.stderr.write(
    `soak: ${options.streams} streams of ${options.batchSize} crops for ${options.minutes} min, then ${options.idleSeconds} s idle, against voxelfeed serve --data ${dataDir} --cache-bytes ${options.cacheBytes}${options.serverArgs.map((arg) => ` ${arg}`).join('')}\n`,
  );
  const result = await runSoak(
    {
      dataDir,
      cacheBytes: options.cacheBytes,
      streams: options.streams,
      durationMs: options.minutes * 60_000,
      sampleMs: options.sampleSeconds * 1000,
      batchSize: options.batchSize,
      crop: options.crop,
      idleMs: options.idleSeconds * 1000,
      stallMs: options.stallSeconds * 1000,
      serverArgs: options.serverArgs,
    },
    (sample) =>
      process.stderr.write(
        `  ${sample.seconds.toFixed(0)} s: RSS ${(sample.rssBytes / 1024 ** 2).toFixed(1)} MiB, external ${((sample.gauges.externalBytes ?? 0) / 1024 ** 2).toFixed(1)} MiB, ${sample.crops} crops\n`,
      ),
  );
  const machine = `${os.cpus().length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, node ${process.version}`;
  const problems = soakProblems(result);
  process.stdout.write(formatSoakReport(result, machine, problems));
  return problems.length === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
