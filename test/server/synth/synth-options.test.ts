import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VoxelfeedError } from '../../../server/errors.js';
import { parseSynthArgs, SYNTH_HELP } from '../../../server/synth/synth-options.js';

/** The problems of a rejected argument list, one per line of the error message between its header and hint. */
function problemsOf(argv: string[]): string[] {
  try {
    parseSynthArgs(argv);
  } catch (error) {
    assert.ok(error instanceof VoxelfeedError, `a VoxelfeedError, got ${error}`);
    assert.equal(error.code, 'INVALID_ARGUMENT');
    const lines = error.message.split('\n');
    assert.equal(lines[0], 'bad options:');
    assert.equal(lines.at(-1), 'Run voxelfeed synth --help for usage.');
    return lines.slice(1, -1).map((line) => line.trim());
  }
  assert.fail(`${argv.join(' ')} was accepted`);
}

describe('parseSynthArgs', () => {
  it('fills in 8 series of 64x128x128 with seed 0 by default', () => {
    assert.deepEqual(parseSynthArgs(['./out']), {
      outDir: './out',
      series: 8,
      shape: [64, 128, 128],
      seed: 0n,
      labels: 1,
      help: false,
    });
  });

  it('reads every option, in both --name value and --name=value forms', () => {
    const args = parseSynthArgs([
      '--series',
      '64',
      'data',
      '--shape=128,192,192',
      '--seed',
      '18446744073709551615',
      '--labels=3',
    ]);
    assert.deepEqual(args, {
      outDir: 'data',
      series: 64,
      shape: [128, 192, 192],
      seed: 18446744073709551615n,
      labels: 3,
      help: false,
    });
  });

  it('asks for help without checking anything else', () => {
    assert.equal(parseSynthArgs(['--help']).help, true);
    assert.equal(parseSynthArgs(['-h', '--series', 'zero']).help, true);
  });

  const bad: { argv: string[]; message: string }[] = [
    {
      argv: ['o', '--series', '0'],
      message: '--series 0: must be an integer from 1 to 100000; e.g. --series 8',
    },
    {
      argv: ['o', '--series', '2.5'],
      message: '--series 2.5: must be an integer from 1 to 100000; e.g. --series 8',
    },
    {
      argv: ['o', '--series', '100001'],
      message: '--series 100001: must be an integer from 1 to 100000; e.g. --series 8',
    },
    {
      argv: ['o', '--shape', '0,96,96'],
      message: '--shape 0,96,96: every size must be an integer >= 16; e.g. --shape 128,192,192',
    },
    {
      argv: ['o', '--shape', '15,96,96'],
      message: '--shape 15,96,96: every size must be an integer >= 16; e.g. --shape 128,192,192',
    },
    {
      argv: ['o', '--shape', '96x96x96'],
      message: '--shape 96x96x96: give three sizes Z,Y,X separated by commas; e.g. --shape 128,192,192',
    },
    {
      argv: ['o', '--shape', '64,128'],
      message: '--shape 64,128: give three sizes Z,Y,X separated by commas; e.g. --shape 128,192,192',
    },
    {
      argv: ['o', '--shape', '1024,1024,1024'],
      message:
        '--shape 1024,1024,1024: 1073741824 voxels is over the limit of 268435456; e.g. --shape 128,192,192',
    },
    {
      argv: ['o', '--seed', '-1'],
      message: '--seed -1: must be a whole number from 0 to 18446744073709551615; e.g. --seed 42',
    },
    {
      argv: ['o', '--seed', '18446744073709551616'],
      message:
        '--seed 18446744073709551616: must be a whole number from 0 to 18446744073709551615; e.g. --seed 42',
    },
    { argv: ['o', '--seed'], message: '--seed needs a value; e.g. --seed 42' },
    {
      argv: ['o', '--crop', '16,96,96'],
      message: 'unknown option --crop; the options are --series, --shape, --seed, --labels and --help',
    },
    { argv: [], message: 'missing OUT, the folder to write into; e.g. voxelfeed synth ./data/phantom' },
    {
      argv: ['a', 'b'],
      message:
        'unexpected argument "b"; voxelfeed synth takes one OUT (the folder to write into), options start with --',
    },
  ];
  for (const { argv, message } of bad) {
    it(`rejects "${argv.join(' ')}" saying what to fix`, () => {
      assert.deepEqual(problemsOf(argv), [message]);
    });
  }

  it('reports every problem at once, one line each', () => {
    const problems = problemsOf(['--series', '-3', '--shape', '0,96,96', '--seed', 'x']);
    assert.equal(problems.length, 4);
    assert.ok(problems.some((line) => line.startsWith('--series -3:')));
    assert.ok(problems.some((line) => line.startsWith('--shape 0,96,96:')));
    assert.ok(problems.some((line) => line.startsWith('--seed x:')));
    assert.ok(problems.some((line) => line.startsWith('missing OUT')));
  });
});

describe('SYNTH_HELP', () => {
  it('gives the usage, each option with its default, an example and the files written', () => {
    assert.match(SYNTH_HELP, /^Usage: voxelfeed synth OUT \[--series N\] \[--shape Z,Y,X\] \[--seed S\]/);
    assert.match(SYNTH_HELP, /--series N .*\(default 8\)/);
    assert.match(SYNTH_HELP, /\(default 64,128,128\)/);
    assert.match(SYNTH_HELP, /--seed S .*\(default 0\)/);
    assert.match(SYNTH_HELP, /Example:\n {2}voxelfeed synth \S+ --series \d+/);
    for (const name of ['<uid>_clean.nrrd', '<uid>_mask.nrrd', '<uid>_bboxes.npy', 'voxelfeed-synth.json']) {
      assert.ok(SYNTH_HELP.includes(name), name);
    }
  });
});
