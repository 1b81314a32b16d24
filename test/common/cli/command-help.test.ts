import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BENCH_COMMAND, BENCH_HELP } from '../../../bench/bench-options.js';
import { LOAD_COMMAND, LOAD_HELP } from '../../../bench/load/load-options.js';
import { SOAK_COMMAND, SOAK_HELP } from '../../../bench/soak/soak-options.js';
import { DEMO_COMMAND, DEMO_HELP } from '../../../bin/demo/run-demo.js';
import type { CommandSpec, OptionTable } from '../../../common/cli/command-spec.js';
import { isFlagKind } from '../../../common/cli/option-kinds.js';
import { SERVE_COMMAND, SERVE_HELP } from '../../../server/config/serve-config.js';
import { EVALUATE_COMMAND, EVALUATE_HELP } from '../../../server/evaluate/evaluate-options.js';
import { INDEX_COMMAND, INDEX_HELP } from '../../../server/index-command/index-options.js';
import { SYNTH_COMMAND, SYNTH_HELP } from '../../../server/synth/synth-options.js';
import { TRAIN_COMMAND, TRAIN_HELP } from '../../../trainer/config/train-config.js';
import { INFER_COMMAND, INFER_HELP } from '../../../trainer/infer/infer-config.js';

const COMMANDS: Array<[CommandSpec<OptionTable>, string]> = [
  [SERVE_COMMAND, SERVE_HELP],
  [TRAIN_COMMAND, TRAIN_HELP],
  [INFER_COMMAND, INFER_HELP],
  [SYNTH_COMMAND, SYNTH_HELP],
  [INDEX_COMMAND, INDEX_HELP],
  [EVALUATE_COMMAND, EVALUATE_HELP],
  [DEMO_COMMAND, DEMO_HELP],
  [BENCH_COMMAND, BENCH_HELP],
  [LOAD_COMMAND, LOAD_HELP],
  [SOAK_COMMAND, SOAK_HELP],
];

describe("every command's --help", () => {
  for (const [spec, help] of COMMANDS) {
    it(`${spec.name} lists every option of its table, with its variable on the same line`, () => {
      for (const [name, row] of Object.entries(spec.options)) {
        const line = help
          .split('\n')
          .findIndex((text) => new RegExp(`^ {2}(-\\w, )?--${name}(?=[ =]|$)`).test(text));
        assert.ok(line >= 0, `--${name} missing from the help of ${spec.name}`);
        if (row.variable !== undefined) {
          // The variable closes the option's first description line (the next line when the label is long).
          const lines = help
            .split('\n')
            .slice(line, line + 2)
            .join('\n');
          const shown = isFlagKind(row.kind) ? `${row.variable}=1` : row.variable;
          assert.match(lines, new RegExp(` ${shown}$`, 'm'), `${shown} beside --${name}`);
        }
      }
      assert.match(help, /^ {2}-h, --help +show this text$/m);
      assert.ok(help.startsWith('Usage: '), spec.name);
    });
  }
});
