import { formatBytes } from '@voxelfeed/common/cli/parse-byte-size.js';
import { parseSynthArgs, SYNTH_HELP } from './synth-options.js';
import { writePhantomDataset } from './write-phantom-dataset.js';

/** `voxelfeed synth OUT [--series N] [--shape Z,Y,X] [--seed S] [--labels N]`: writes a phantom data set and says what it wrote. */
export async function runSynth(argv: readonly string[]): Promise<number> {
  const args = parseSynthArgs(argv);
  if (args.help) {
    process.stdout.write(`${SYNTH_HELP}\n`);
    return 0;
  }
  const started = performance.now();
  const summary = await writePhantomDataset(args.outDir, {
    series: args.series,
    shape: args.shape,
    seed: args.seed,
    ...(args.labels > 1 ? { labels: args.labels } : {}),
    onSeries: (done, total) => {
      if (process.stderr.isTTY) process.stderr.write(`\rwriting series ${done}/${total}`);
    },
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `wrote ${summary.series} series (${summary.nodules} nodules, ${args.shape.join('x')}, seed ${args.seed}) to ${summary.dir}: ${formatBytes(summary.bytes)} in ${seconds.toFixed(1)} s\n`,
  );
  return 0;
}
