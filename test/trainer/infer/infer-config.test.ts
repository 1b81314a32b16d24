import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../../common/usage-error.js';
import { INFER_HELP, parseInferConfig } from '../../../trainer/infer/infer-config.js';

function problems(argv: readonly string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    parseInferConfig(argv, env);
  } catch (error) {
    assert.ok(error instanceof UsageError, String(error));
    return error.message;
  }
  assert.fail(`${argv.join(' ')} was accepted`);
}

describe('parseInferConfig', () => {
  it('reads a full command line, and fills the defaults that --help documents', () => {
    const config = parseInferConfig(
      [
        '--server',
        '127.0.0.1:6000',
        '--checkpoint',
        'ck',
        '--out',
        'pred',
        '--series',
        'a.1,b.2',
        '--tile',
        '16,32,32',
        '--overlap',
        '0.25,0.5,0.5',
        '--weighting',
        'constant',
        '--batch-size',
        '8',
        '--threshold',
        '0.5',
        '--encoding',
        'raw',
        '--dataset',
        'luna',
        '--backend',
        'cpu',
      ],
      {},
    );
    assert.ok(config !== 'help');
    assert.equal(config.server, '127.0.0.1:6000');
    assert.deepEqual(config.model, { kind: 'checkpoint', dir: 'ck' });
    assert.deepEqual(config.series, ['a.1', 'b.2']);
    assert.deepEqual(config.tileSize, [16, 32, 32]);
    assert.deepEqual(config.overlap, [0.25, 0.5, 0.5]);
    assert.equal(config.weighting, 'constant');
    assert.equal(config.batchSize, 8);
    assert.equal(config.threshold, 0.5);
    assert.equal(config.encoding, 'raw');
    assert.equal(config.dataset, 'luna');

    const defaults = parseInferConfig(['--model', 'identity', '--out', 'pred'], { VOXELFEED_SERVER: 'h:7' });
    assert.ok(defaults !== 'help');
    assert.equal(defaults.server, 'h:7');
    assert.deepEqual(defaults.model, { kind: 'identity' });
    assert.deepEqual(defaults.overlap, [0.5, 0.5, 0.5]);
    assert.equal(defaults.weighting, 'gaussian');
    assert.equal(defaults.encoding, 'gzip');
    assert.equal(defaults.threshold, null);
    assert.equal(defaults.tileSize, null);
    assert.equal(defaults.series, null);
    assert.equal(defaults.holdoutFraction, null);
    for (const text of ['default 0.5', 'default gaussian', 'default gzip', 'default 4']) {
      assert.ok(INFER_HELP.includes(text), text);
    }
  });

  it('takes one overlap for every axis', () => {
    const config = parseInferConfig(['--model', 'identity', '--out', 'o', '--overlap', '0'], {});
    assert.ok(config !== 'help');
    assert.deepEqual(config.overlap, [0, 0, 0]);
  });

  it('needs a model and an output folder, naming both fixes', () => {
    const message = problems([]);
    assert.match(message, /missing --checkpoint DIR .* or --model identity/);
    assert.match(message, /missing --out DIR/);
  });

  it('refuses contradictory and out-of-range options, every one in one message', () => {
    const message = problems([
      '--checkpoint',
      'ck',
      '--model',
      'identity',
      '--out',
      'o',
      '--series',
      'a',
      '--holdout',
      '0.2',
      '--overlap',
      '1',
      '--threshold',
      '0',
      '--tile',
      '0,96,96',
      '--weighting',
      'flat',
      '--server',
      'h:99999',
    ]);
    assert.match(
      message,
      /--checkpoint ck with --model identity: give a checkpoint or the identity model, not both/,
    );
    assert.match(message, /--series a with --holdout 0.2: .* give one/);
    assert.match(message, /--overlap 1: give one share for every axis or three .* below 1/);
    assert.match(message, /--threshold 0: must be a number above 0 and at most 1/);
    assert.match(message, /--tile 0,96,96: every size must be an integer >= 1/);
    assert.match(message, /--weighting flat: use gaussian or constant/);
    assert.match(message, /--server h:99999: /);
  });

  it('refuses two overlaps, a series named twice and an empty uid', () => {
    assert.match(
      problems(['--model', 'identity', '--out', 'o', '--overlap', '0.5,0.5']),
      /--overlap 0.5,0.5: give one share/,
    );
    assert.match(
      problems(['--model', 'identity', '--out', 'o', '--series', 'a,b,a']),
      /series a is named twice/,
    );
    assert.match(problems(['--model', 'identity', '--out', 'o', '--series', 'a,,b']), /none empty/);
    assert.match(
      problems(['--model', 'identity', '--out', 'o', '--holdout', '1']),
      /--holdout 1: must be a number above 0 and at most 0.9/,
    );
  });
});
