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

  it('finds rank 0 at 127.0.0.1:29500 by default, or MASTER_ADDR and MASTER_PORT as torchrun sets them, flags winning', () => {
    const defaults = parseTrainConfig([], {});
    assert.ok(defaults !== 'help');
    assert.equal(defaults.masterAddr, '127.0.0.1');
    assert.equal(defaults.masterPort, 29_500);
    assert.equal(defaults.rendezvousTimeoutMs, 300_000);
    assert.equal(defaults.peerTimeoutMs, 60_000);
    const fromEnv = parseTrainConfig([], { MASTER_ADDR: 'luna-0.luna', MASTER_PORT: '29400' });
    assert.ok(fromEnv !== 'help');
    assert.equal(fromEnv.masterAddr, 'luna-0.luna');
    assert.equal(fromEnv.masterPort, 29_400);
    const fromFlags = parseTrainConfig(
      [
        '--master-addr',
        '10.0.0.5',
        '--master-port',
        '29501',
        '--rendezvous-timeout',
        '30',
        '--peer-timeout',
        '5',
      ],
      { MASTER_ADDR: 'luna-0.luna', MASTER_PORT: '29400' },
    );
    assert.ok(fromFlags !== 'help');
    assert.equal(fromFlags.masterAddr, '10.0.0.5');
    assert.equal(fromFlags.masterPort, 29_501);
    assert.equal(fromFlags.rendezvousTimeoutMs, 30_000);
    assert.equal(fromFlags.peerTimeoutMs, 5_000);
    for (const text of [
      '--master-addr HOST',
      'MASTER_ADDR',
      'MASTER_PORT',
      'default 29500',
      'default 300',
      'default 60',
    ]) {
      assert.ok(TRAIN_HELP.includes(text), text);
    }
  });

  it('refuses a master port outside 1..65535 naming the variable it came from', () => {
    assert.throws(
      () => parseTrainConfig([], { MASTER_PORT: '70000' }),
      (error: unknown) => error instanceof UsageError && error.message.includes('MASTER_PORT=70000'),
    );
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
      /--shuffle-window -3: must be an integer from 0/,
    );
  });

  it('turns the metrics endpoint off with --metrics-port off', () => {
    const config = parseTrainConfig(['--metrics-port', 'off'], {});
    assert.ok(config !== 'help');
    assert.equal(config.metricsPort, null);
  });

  it('reads --reconnect-attempts and --log-level from flags or variables, defaulting to 20 and info', () => {
    const defaults = parseTrainConfig([], {});
    assert.ok(defaults !== 'help');
    assert.equal(defaults.reconnectAttempts, 20);
    assert.equal(defaults.logLevel, 'info');
    assert.ok(TRAIN_HELP.includes('default 20: about 35 s on a closed port'));
    const fromEnv = parseTrainConfig([], { VOXELFEED_RECONNECT_ATTEMPTS: '3', VOXELFEED_LOG_LEVEL: 'debug' });
    assert.ok(fromEnv !== 'help');
    assert.equal(fromEnv.reconnectAttempts, 3);
    assert.equal(fromEnv.logLevel, 'debug');
    const fromFlags = parseTrainConfig(['--reconnect-attempts', '1', '--log-level', 'warn'], {
      VOXELFEED_RECONNECT_ATTEMPTS: '3',
    });
    assert.ok(fromFlags !== 'help');
    assert.equal(fromFlags.reconnectAttempts, 1);
    assert.equal(fromFlags.logLevel, 'warn');
    assert.throws(
      () => parseTrainConfig(['--reconnect-attempts', '0', '--log-level', 'loud'], {}),
      (error: Error) =>
        error.message.includes('--reconnect-attempts 0: must be an integer from 1') &&
        error.message.includes('--log-level loud: use one of debug, info, warn, error'),
    );
  });

  it('connects in plaintext without a token unless told otherwise', () => {
    const config = parseTrainConfig([], {});
    assert.ok(config !== 'help');
    assert.equal(config.tls, null);
    assert.equal(config.authTokenFile, null);
  });

  it('turns TLS on with --tls (system CAs), any TLS file, or VOXELFEED_TLS=1', () => {
    const none = { caFile: null, certFile: null, keyFile: null };
    const cases: Array<[string[], NodeJS.ProcessEnv, unknown]> = [
      [['--tls'], {}, none],
      [[], { VOXELFEED_TLS: '1' }, none],
      [[], { VOXELFEED_TLS: '0' }, null],
      [['--tls-ca', 'ca.crt'], {}, { ...none, caFile: 'ca.crt' }],
      [['--tls-cert', 'c.crt', '--tls-key', 'c.key'], {}, { ...none, certFile: 'c.crt', keyFile: 'c.key' }],
      [
        [],
        { VOXELFEED_TLS_CA: 'ca.crt', VOXELFEED_TLS_CERT: 'c.crt', VOXELFEED_TLS_KEY: 'c.key' },
        { caFile: 'ca.crt', certFile: 'c.crt', keyFile: 'c.key' },
      ],
    ];
    for (const [argv, env, tls] of cases) {
      const config = parseTrainConfig(argv, env);
      assert.ok(config !== 'help');
      assert.deepEqual(config.tls, tls, `${argv.join(' ')} ${JSON.stringify(env)}`);
    }
  });

  it('reads --auth-token-file from its flag or VOXELFEED_AUTH_TOKEN_FILE, the flag winning', () => {
    const fromEnv = parseTrainConfig([], { VOXELFEED_AUTH_TOKEN_FILE: '/secrets/token' });
    assert.ok(fromEnv !== 'help');
    assert.equal(fromEnv.authTokenFile, '/secrets/token');
    const fromFlag = parseTrainConfig(['--auth-token-file', 'mine'], { VOXELFEED_AUTH_TOKEN_FILE: 'x' });
    assert.ok(fromFlag !== 'help');
    assert.equal(fromFlag.authTokenFile, 'mine');
  });

  it('refuses a client certificate without its key and the reverse, and a VOXELFEED_TLS that is no yes or no', () => {
    for (const [argv, env, fragment] of [
      [['--tls-cert', 'c.crt'], {}, '--tls-cert c.crt needs --tls-key FILE (VOXELFEED_TLS_KEY)'],
      [
        [],
        { VOXELFEED_TLS_KEY: 'c.key' },
        'VOXELFEED_TLS_KEY=c.key needs --tls-cert FILE (VOXELFEED_TLS_CERT)',
      ],
      [[], { VOXELFEED_TLS: 'maybe' }, 'VOXELFEED_TLS=maybe: use 1 or 0'],
    ] as Array<[string[], NodeJS.ProcessEnv, string]>) {
      assert.throws(
        () => parseTrainConfig(argv, env),
        (error: Error) => error instanceof UsageError && error.message.includes(fragment),
        fragment,
      );
    }
  });

  it('documents each TLS and token option with its variable in --help', () => {
    for (const [flag, variable] of [
      ['--tls', 'VOXELFEED_TLS=1'],
      ['--tls-ca FILE', 'VOXELFEED_TLS_CA'],
      ['--tls-cert FILE', 'VOXELFEED_TLS_CERT'],
      ['--tls-key FILE', 'VOXELFEED_TLS_KEY'],
      ['--auth-token-file FILE', 'VOXELFEED_AUTH_TOKEN_FILE'],
    ]) {
      assert.match(TRAIN_HELP, new RegExp(`^  ${flag} `, 'm'), flag);
      assert.match(TRAIN_HELP, new RegExp(` ${variable}$`, 'm'), variable);
    }
  });

  it('answers --help', () => {
    assert.equal(parseTrainConfig(['--help'], {}), 'help');
  });
});

describe('parseTrainConfig: problems named by their source', () => {
  const messageOf = (argv: string[], env: NodeJS.ProcessEnv = {}): string => {
    try {
      parseTrainConfig(argv, env);
    } catch (error) {
      assert.ok(error instanceof UsageError, String(error));
      return error.message;
    }
    return assert.fail(`${argv.join(' ')} was accepted`);
  };

  it('refuses a server port above 65535, naming the port and the range', () => {
    assert.match(
      messageOf(['--server', '127.0.0.1:99999']),
      /--server 127\.0\.0\.1:99999: port 99999 is out of range: a port is 1 to 65535/,
    );
    assert.match(
      messageOf([], { VOXELFEED_SERVER: 'a:1,b:99999' }),
      /VOXELFEED_SERVER=a:1,b:99999: b:99999: port 99999/,
    );
  });

  it('takes integers as decimal digits only (1e0 is refused)', () => {
    assert.match(
      messageOf(['--rank', '1e0', '--world-size', '2']),
      /--rank 1e0: must be an integer from 0 to 65535/,
    );
  });

  it('names VOXELFEED_RANK, not --rank, when the rank came from the environment', () => {
    const message = messageOf([], { VOXELFEED_RANK: '4', VOXELFEED_WORLD_SIZE: '4' });
    assert.match(message, /VOXELFEED_RANK=4 with VOXELFEED_WORLD_SIZE=4: rank must be 0\.\.3/);
    assert.ok(!message.includes('--rank 4'), message);
  });

  it('reports unknown options together with every other problem', () => {
    const message = messageOf(['--bogus', '--lr', 'x', '--also-bogus=1']);
    for (const fragment of [
      'unknown option --bogus',
      'unknown option --also-bogus',
      '--lr x: must be a number',
    ]) {
      assert.ok(message.includes(fragment), `"${message}" lacks "${fragment}"`);
    }
  });

  it("reads its metrics port from VOXELFEED_TRAIN_METRICS_PORT, and serve's VOXELFEED_METRICS_PORT with a warning", () => {
    const own = parseTrainConfig([], {
      VOXELFEED_TRAIN_METRICS_PORT: '9300',
      VOXELFEED_METRICS_PORT: '9100',
    });
    assert.ok(own !== 'help');
    assert.equal(own.metricsPort, 9300);
    const warnings: string[] = [];
    const old = parseTrainConfig([], { VOXELFEED_METRICS_PORT: '9100' }, (line) => warnings.push(line));
    assert.ok(old !== 'help');
    assert.equal(old.metricsPort, 9100);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /VOXELFEED_METRICS_PORT=9100 .*set VOXELFEED_TRAIN_METRICS_PORT instead/);
  });
});
