import { runLoadCommand } from './load-command.js';

// The composition root of `npm run load` (node --import tsx bench/load/main.ts); --help lists the options.
process.exitCode = await runLoadCommand(process.argv.slice(2), process.env, {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
