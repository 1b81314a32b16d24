import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAddress } from '../../../client/parse-address.js';
import { command, option, repeatedOption } from '../../../common/cli/command-spec.js';
import { formatHelp } from '../../../common/cli/format-help.js';
import { address, byteSize, choice, flag, integer, triple } from '../../../common/cli/option-kinds.js';
import { parseCommandLine, throwIfProblems } from '../../../common/cli/parse-command-line.js';
import { UsageError } from '../../../common/usage-error.js';

const DEMO = command({
  name: 'voxelfeed example',
  usage: 'Usage: voxelfeed example [options]',
  summary: 'An example command.',
  options: {
    rank: option({ kind: integer({ min: 0, max: 7 }), default: 0, variable: 'VOXELFEED_RANK', help: 'rank' }),
    crop: option({ kind: triple({ min: 1, example: '16,96,96' }), default: [16, 96, 96], help: 'crop size' }),
    cache: option({
      kind: byteSize({ example: '2GiB' }),
      default: 1024,
      variable: 'VOXELFEED_CACHE',
      help: 'cache',
    }),
    server: option({
      kind: address({ example: '127.0.0.1:50051', parse: parseAddress }),
      default: null,
      help: 'server ({default})',
    }),
    mode: option({ kind: choice(['fast', 'slow'] as const), default: 'fast', help: 'mode' }),
    strict: option({ kind: flag(), default: false, variable: 'VOXELFEED_STRICT', help: 'strict' }),
    extra: repeatedOption({ kind: integer({ min: 1, max: 9 }), help: 'extra' }),
  },
});

function parsed(argv: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const line = parseCommandLine(DEMO, argv, env);
  assert.notEqual(line, 'help');
  if (line === 'help') throw new Error('help');
  return line;
}

describe('parseCommandLine', () => {
  it('takes a flag over its variable and a variable over the default, and says where each came from', () => {
    const line = parsed(['--rank=3', '--crop', '8,16,16', '--extra', '2', '--extra=5'], {
      VOXELFEED_RANK: '5',
      VOXELFEED_CACHE: '2KiB',
      VOXELFEED_STRICT: 'yes',
    });
    assert.deepEqual(line.values, {
      rank: 3,
      crop: [8, 16, 16],
      cache: 2048,
      server: null,
      mode: 'fast',
      strict: true,
      extra: [2, 5],
    });
    assert.equal(line.shown('rank'), '--rank 3');
    assert.equal(line.shown('cache'), 'VOXELFEED_CACHE=2KiB');
    assert.equal(line.shown('mode'), '--mode fast (the default)');
    assert.deepEqual(line.problems, []);
  });

  it('reports every problem at once, naming the flag or the variable it came from, the limit and a fix', () => {
    const line = parsed(['--bogus', '3', '--crop', '16,96', '--mode', 'quick', 'stray', '--strict=no'], {
      VOXELFEED_RANK: '9',
      VOXELFEED_STRICT: 'maybe',
    });
    assert.deepEqual(line.problems, [
      'unknown option --bogus; run voxelfeed example --help for the options',
      '--strict=no: --strict takes no value; give --strict alone, or leave it out',
      'VOXELFEED_RANK=9: must be an integer from 0 to 7; e.g. VOXELFEED_RANK=7',
      '--crop 16,96: give three sizes Z,Y,X separated by commas; e.g. --crop 16,96,96',
      '--mode quick: use fast or slow; e.g. --mode fast',
      'VOXELFEED_STRICT=maybe: use 1 or 0 (true or false)',
      'unexpected argument "stray"; voxelfeed example takes options only',
    ]);
    assert.throws(
      () => throwIfProblems(DEMO, line.problems),
      (error: unknown) =>
        error instanceof UsageError &&
        error.code === 'INVALID_ARGUMENT' &&
        error.message.startsWith('bad options:\n  unknown option --bogus') &&
        error.message.endsWith('\nRun voxelfeed example --help for usage.'),
    );
  });

  it('takes integers as decimal digits only: no exponent, hex, sign or fraction', () => {
    for (const text of ['1e0', '0x5', '+1', '-1', '1.0', '', ' ']) {
      const line = parsed([`--rank=${text}`]);
      assert.equal(line.problems.length, 1, text);
      assert.equal(line.values.rank, 0, text);
    }
    assert.equal(parsed(['--rank', ' 7 ']).values.rank, 7);
  });

  it('refuses a server port outside 1..65535 with a line naming the port and the range', () => {
    assert.deepEqual(parsed(['--server', '127.0.0.1:99999']).problems, [
      '--server 127.0.0.1:99999: port 99999 is out of range: a port is 1 to 65535; e.g. --server 127.0.0.1:50051',
    ]);
    assert.equal(parsed(['--server', '[::1]:65535']).values.server, '[::1]:65535');
  });

  it('names a missing value with an example, and does not check it again', () => {
    assert.deepEqual(parsed(['--cache']).problems, ['--cache needs a value; e.g. --cache 2GiB']);
    assert.deepEqual(parsed(['--rank', '--mode', 'slow']).problems.slice(0, 1), [
      '--rank needs a value; e.g. --rank 7',
    ]);
  });

  it('treats an empty variable as unset', () => {
    assert.deepEqual(parsed([], { VOXELFEED_RANK: '', VOXELFEED_STRICT: '' }).values, parsed([]).values);
  });

  it('answers help for -h or --help, whatever else is wrong', () => {
    assert.equal(parseCommandLine(DEMO, ['--bogus', '-h'], { VOXELFEED_RANK: 'x' }), 'help');
    assert.equal(parseCommandLine(DEMO, ['--help'], {}), 'help');
  });

  it('reads an old variable under its new name, with a warning that names both', () => {
    const spec = command({
      name: 'voxelfeed train',
      usage: 'Usage: voxelfeed train',
      summary: 'Trains.',
      options: {
        'metrics-port': option({
          kind: integer({ min: 0, max: 65535 }),
          default: 9465,
          variable: 'VOXELFEED_TRAIN_METRICS_PORT',
          deprecatedVariable: 'VOXELFEED_METRICS_PORT',
          help: 'port',
        }),
      },
    });
    const old = parseCommandLine(spec, [], { VOXELFEED_METRICS_PORT: '9100' });
    assert.ok(old !== 'help');
    assert.equal(old.values['metrics-port'], 9100);
    assert.match(
      old.warnings[0] ?? '',
      /VOXELFEED_METRICS_PORT=9100 is read as VOXELFEED_TRAIN_METRICS_PORT/,
    );
    const both = parseCommandLine(spec, [], {
      VOXELFEED_METRICS_PORT: '9100',
      VOXELFEED_TRAIN_METRICS_PORT: '9200',
    });
    assert.ok(both !== 'help');
    assert.equal(both.values['metrics-port'], 9200);
    assert.deepEqual(both.warnings, []);
  });
});

describe('formatHelp', () => {
  it('lists every option with its placeholder, its default and its variable in one column', () => {
    const help = formatHelp(DEMO);
    assert.match(help, /^ {2}--rank N +rank \(default 0\) +VOXELFEED_RANK$/m);
    assert.match(help, /^ {2}--cache SIZE +cache \(default 1KiB\) +VOXELFEED_CACHE$/m);
    assert.match(help, /^ {2}--strict +strict +VOXELFEED_STRICT=1$/m);
    assert.match(help, /^ {2}--server HOST:PORT +server \(default none\)$/m);
    assert.match(help, /^ {2}--extra=N +extra$/m);
    assert.match(help, /^ {2}-h, --help +show this text$/m);
    const columns = new Set(
      help
        .split('\n')
        .map((line) => line.search(/ VOXELFEED_\w+(=1)?$/))
        .filter((at) => at >= 0),
    );
    assert.equal(columns.size, 1);
  });
});
