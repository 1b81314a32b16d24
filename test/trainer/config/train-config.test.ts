import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../../common/usage-error.js';
import { parseTrainConfig, TRAIN_HELP } from '../../../trainer/config/train-config.js';

describe('parseTrainConfig', () => {
  it('fills the defaults that --help documents', () => {
    const config = parseTrainConfig([], {});
    assert.notEqual(config, 'help');
    if (config === 'help') return;
    assert.deepEqual(config.servers, ['127.0.0.1:50051']);
    assert.deepEqual(config.cropSize, [16, 96, 96]);
    assert.equal(config.rank, 0);
    assert.equal(config.worldSize, 1);
    assert.equal(config.batchSize, 2);
    assert.equal(config.model, 'vnet');
    assert.equal(config.metricsPort, 9465);
    assert.equal(config.resume, false);
    for (const text of [
      'default 127.0.0.1:50051',
      'default 16,96,96',
      'default 2)',
      'default vnet',
      'default 9465',
    ]) {
      assert.ok(TRAIN_HELP.includes(text), text);
    }
  });

  it('reads the rank layout and server from VOXELFEED_* variables, flags winning', () => {
    const env = {
      VOXELFEED_SERVER: 'a:1,b:2',
      VOXELFEED_RANK: '3',
      VOXELFEED_WORLD_SIZE: '8',
      VOXELFEED_JOB: 'luna',
    };
    const config = parseTrainConfig(['--rank', '5'], env);
    assert.ok(config !== 'help');
    assert.deepEqual(config.servers, ['a:1', 'b:2']);
    assert.equal(config.rank, 5);
    assert.equal(config.worldSize, 8);
    assert.equal(config.job, 'luna');
  });

  it('reports every bad option at once, each with its fix', () => {
    assert.throws(
      () =>
        parseTrainConfig(
          [
            '--rank',
            '4',
            '--world-size',
            '4',
            '--crop',
            '16,96',
            '--model',
            'unet',
            '--server',
            'nohost',
            '--resume',
            '--lr',
            'x',
          ],
          {},
        ),
      (error: Error) => {
        assert.ok(error instanceof UsageError);
        for (const fragment of [
          '--rank 4 with --world-size 4',
          '--crop 16,96',
          '--model unet: use tiny or vnet',
          '--server nohost: expected HOST:PORT',
          '--resume needs --checkpoint-dir',
          '--lr x',
        ]) {
          assert.ok(error.message.includes(fragment), `"${error.message}" lacks "${fragment}"`);
        }
        return true;
      },
    );
  });

  it('passes --shuffle-window through, and refuses a negative one', () => {
    const config = parseTrainConfig(['--shuffle-window', '12'], {});
    assert.ok(config !== 'help');
    assert.equal(config.shuffleWindow, 12);
    assert.throws(
      () => parseTrainConfig(['--shuffle-window=-3'], {}),
      /--shuffle-window -3: expected an integer from 0/,
    );
  });

  it('turns the metrics endpoint off with --metrics-port off', () => {
    const config = parseTrainConfig(['--metrics-port', 'off'], {});
    assert.ok(config !== 'help');
    assert.equal(config.metricsPort, null);
  });

  it('answers --help', () => {
    assert.equal(parseTrainConfig(['--help'], {}), 'help');
  });
});
