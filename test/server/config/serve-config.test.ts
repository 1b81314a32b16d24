import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import {
  DEFAULT_CONCURRENT_LOADS,
  parseServeConfig,
  SERVE_HELP,
  type ServeConfig,
} from '../../../server/config/serve-config.js';
import { isVoxelfeedError } from '../../../server/errors.js';
import { DEFAULT_SERVICE_LIMITS } from '../../../server/service/service-limits.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

function parse(argv: readonly string[], env: NodeJS.ProcessEnv = {}): ServeConfig {
  const config = parseServeConfig(argv, env);
  assert.notEqual(config, 'help');
  return config as ServeConfig;
}

/** The message of the INVALID_ARGUMENT error `parseServeConfig` throws, after checking its code. */
function problemsOf(argv: readonly string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    parseServeConfig(argv, env);
  } catch (error) {
    assert.ok(isVoxelfeedError(error), String(error));
    assert.equal(error.code, 'INVALID_ARGUMENT');
    return error.message;
  }
  return assert.fail(`expected ${JSON.stringify(argv)} with ${JSON.stringify(env)} to be refused`);
}

function assertMentions(text: string, fragments: readonly string[]): void {
  for (const fragment of fragments) assert.ok(text.includes(fragment), `"${text}" lacks "${fragment}"`);
}

describe('parseServeConfig', () => {
  it('fills the defaults that --help documents when nothing is given', () => {
    assert.deepEqual(parse([]), {
      data: null,
      datasetName: null,
      host: '127.0.0.1',
      port: 50051,
      metricsPort: 9464,
      metricsHost: '127.0.0.1',
      cacheMaxBytes: 2 * GiB,
      maxConcurrentLoads: 4,
      workers: Math.max(1, availableParallelism() - 1),
      planCacheMaxBytes: 256 * MiB,
      strict: false,
      maxSkippedShare: 0.1,
      replaceBadSeries: false,
      limits: DEFAULT_SERVICE_LIMITS,
      logLevel: 'info',
      shutdownGraceMs: 10_000,
      tls: null,
      authTokenFile: null,
    });
    assertMentions(SERVE_HELP, [
      'default 127.0.0.1',
      'default 50051',
      'default 9464',
      'default 2GiB',
      'default 256MiB',
      `default ${DEFAULT_CONCURRENT_LOADS})`,
      `default ${DEFAULT_SERVICE_LIMITS.maxCropVoxels}`,
      'default 64MiB',
      `default ${DEFAULT_SERVICE_LIMITS.maxStreams})`,
      `default ${DEFAULT_SERVICE_LIMITS.maxStreamsPerPeer})`,
      `default ${DEFAULT_SERVICE_LIMITS.keepaliveMs};`,
      `default ${DEFAULT_SERVICE_LIMITS.idleTimeoutMs};`,
      'default 10000',
      'default info',
      'default 0.1;',
    ]);
    assert.equal(DEFAULT_SERVICE_LIMITS.maxBatchBytes, 64 * MiB);
  });

  it('reads every option from its VOXELFEED_* variable', () => {
    const config = parse([], {
      VOXELFEED_DATA: '/data/luna16',
      VOXELFEED_DATASET_NAME: 'luna',
      VOXELFEED_HOST: '0.0.0.0',
      VOXELFEED_PORT: '6000',
      VOXELFEED_METRICS_PORT: '9100',
      VOXELFEED_METRICS_HOST: '127.0.0.2',
      VOXELFEED_CACHE_BYTES: '512MiB',
      VOXELFEED_MAX_LOADS: '2',
      VOXELFEED_WORKERS: '3',
      VOXELFEED_PLAN_CACHE_BYTES: '64MiB',
      VOXELFEED_STRICT: '1',
      VOXELFEED_MAX_SKIPPED: '25%',
      VOXELFEED_REPLACE_BAD_SERIES: '1',
      VOXELFEED_MAX_CROP_VOXELS: '1000',
      VOXELFEED_MAX_BATCH_BYTES: '8MiB',
      VOXELFEED_MAX_STREAMS: '40',
      VOXELFEED_MAX_STREAMS_PER_PEER: '8',
      VOXELFEED_KEEPALIVE_MS: '0',
      VOXELFEED_IDLE_TIMEOUT_MS: '5000',
      VOXELFEED_SHUTDOWN_GRACE_MS: '250',
      VOXELFEED_LOG_LEVEL: 'warn',
      VOXELFEED_TLS_CERT: '/tls/server.crt',
      VOXELFEED_TLS_KEY: '/tls/server.key',
      VOXELFEED_TLS_CLIENT_CA: '/tls/ca.crt',
      VOXELFEED_AUTH_TOKEN_FILE: '/secrets/tokens',
    });
    assert.deepEqual(config, {
      data: '/data/luna16',
      datasetName: 'luna',
      host: '0.0.0.0',
      port: 6000,
      metricsPort: 9100,
      metricsHost: '127.0.0.2',
      cacheMaxBytes: 512 * MiB,
      maxConcurrentLoads: 2,
      workers: 3,
      planCacheMaxBytes: 64 * MiB,
      strict: true,
      maxSkippedShare: 0.25,
      replaceBadSeries: true,
      limits: {
        ...DEFAULT_SERVICE_LIMITS,
        maxCropVoxels: 1000,
        maxBatchBytes: 8 * MiB,
        maxStreams: 40,
        maxStreamsPerPeer: 8,
        keepaliveMs: 0,
        idleTimeoutMs: 5000,
      },
      logLevel: 'warn',
      shutdownGraceMs: 250,
      tls: { certFile: '/tls/server.crt', keyFile: '/tls/server.key', clientCaFile: '/tls/ca.crt' },
      authTokenFile: '/secrets/tokens',
    });
  });

  it('turns on --replace-bad-series by flag or variable, and documents that batches then depend on the bad set', () => {
    assert.equal(parse(['--replace-bad-series']).replaceBadSeries, true);
    assert.equal(parse([], { VOXELFEED_REPLACE_BAD_SERIES: 'no' }).replaceBadSeries, false);
    assertMentions(problemsOf([], { VOXELFEED_REPLACE_BAD_SERIES: 'maybe' }), [
      'VOXELFEED_REPLACE_BAD_SERIES=maybe',
    ]);
    assertMentions(problemsOf(['--replace-bad-series=1']), ['--replace-bad-series takes no value']);
    // The help wraps its lines where the table's text is long: compare with the line breaks as spaces.
    assertMentions(SERVE_HELP.replace(/\s+/g, ' '), [
      '--replace-bad-series',
      'VOXELFEED_REPLACE_BAD_SERIES=1',
      'batches then depend on which series were found bad',
    ]);
  });

  it('serves /metrics on --host unless --metrics-host or VOXELFEED_METRICS_HOST names another address', () => {
    assert.equal(parse(['--host', '0.0.0.0']).metricsHost, '0.0.0.0');
    assert.equal(parse([], { VOXELFEED_HOST: '10.0.0.5' }).metricsHost, '10.0.0.5');
    const split = parse(['--host', '0.0.0.0', '--metrics-host', '127.0.0.1']);
    assert.deepEqual([split.host, split.metricsHost], ['0.0.0.0', '127.0.0.1']);
    assert.equal(
      parse(['--host', '0.0.0.0'], { VOXELFEED_METRICS_HOST: '127.0.0.1' }).metricsHost,
      '127.0.0.1',
    );
    assert.equal(parse(['--metrics-host=::1'], { VOXELFEED_METRICS_HOST: '127.0.0.1' }).metricsHost, '::1');
    assertMentions(problemsOf(['--metrics-host']), [
      '--metrics-host needs a value; e.g. --metrics-host 127.0.0.1',
    ]);
    assert.match(
      SERVE_HELP,
      /^ {2}--metrics-host HOST .*default: the same as --host.* VOXELFEED_METRICS_HOST$/m,
    );
  });

  it('reads --max-skipped as a fraction or a percentage, and refuses a share outside 0..1 naming the flag', () => {
    assert.equal(parse(['--max-skipped', '1']).maxSkippedShare, 1);
    assert.equal(parse(['--max-skipped', '0']).maxSkippedShare, 0);
    assert.equal(parse(['--max-skipped=12.5%']).maxSkippedShare, 0.125);
    assert.equal(parse(['--max-skipped', '.3'], { VOXELFEED_MAX_SKIPPED: '0.9' }).maxSkippedShare, 0.3);
    for (const bad of ['1.5', '-0.1', 'ten', '150%', '']) {
      const message = problemsOf(['--max-skipped', bad]);
      assertMentions(message, ['--max-skipped']);
      if (bad !== '') assertMentions(message, [`--max-skipped ${bad}: must be a share from 0 to 1`]);
    }
    assertMentions(problemsOf([], { VOXELFEED_MAX_SKIPPED: '2' }), [
      'VOXELFEED_MAX_SKIPPED=2',
      'e.g. VOXELFEED_MAX_SKIPPED=0.1',
    ]);
  });

  it('takes --workers 0 (all on the main thread) or more, documents its default and memory, and refuses a negative count', () => {
    assert.equal(parse(['--workers', '0']).workers, 0);
    assert.equal(parse(['--workers', '2']).workers, 2);
    const help = SERVE_HELP.replace(/\s+/g, ' ');
    assert.match(help, /--workers N .*the cores less one, at least 1; 0: all on the main thread\).*own heap/);
    assert.throws(
      () => parse(['--workers', '-1']),
      (error: unknown) =>
        isVoxelfeedError(error) && error.message.includes('--workers') && error.code === 'INVALID_ARGUMENT',
    );
  });

  it('puts every VOXELFEED_* variable of --help in one column', () => {
    const columns = new Set<number>();
    for (const line of SERVE_HELP.split('\n')) {
      const at = line.search(/ VOXELFEED_[A-Z_]+(=1)?$/);
      if (at >= 0) columns.add(at + 1);
    }
    assert.equal(columns.size, 1, `variables start at columns ${[...columns].join(', ')}`);
  });

  it('takes a flag over its variable, and a variable over the default', () => {
    const env = { VOXELFEED_PORT: '6000', VOXELFEED_HOST: '0.0.0.0', VOXELFEED_CACHE_BYTES: '1GiB' };
    const config = parse(['--port', '7000', '--cache-bytes=3GiB', '--data', './here'], env);
    assert.equal(config.port, 7000);
    assert.equal(config.cacheMaxBytes, 3 * GiB);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.data, './here');
    assert.equal(config.logLevel, 'info');
  });

  it('takes the stream limits and connection timers from flags, and refuses values out of range', () => {
    const limits = parse([
      '--max-streams',
      '3',
      '--max-streams-per-peer=2',
      '--keepalive-ms',
      '250',
      '--idle-timeout-ms',
      '0',
    ]).limits;
    assert.deepEqual(
      [limits.maxStreams, limits.maxStreamsPerPeer, limits.keepaliveMs, limits.idleTimeoutMs],
      [3, 2, 250, 0],
    );
    const message = problemsOf(['--max-streams', '0', '--keepalive-ms', '-1'], {
      VOXELFEED_MAX_STREAMS_PER_PEER: 'many',
      VOXELFEED_IDLE_TIMEOUT_MS: '86400001',
    });
    assertMentions(message, [
      '--max-streams 0: must be an integer from 1',
      '--keepalive-ms -1: must be an integer from 0 to 86400000',
      'VOXELFEED_MAX_STREAMS_PER_PEER=many: must be an integer from 1',
      'VOXELFEED_IDLE_TIMEOUT_MS=86400001: must be an integer from 0 to 86400000',
    ]);
  });

  it('treats an empty variable as unset', () => {
    assert.deepEqual(parse([], { VOXELFEED_PORT: '', VOXELFEED_DATA: '', VOXELFEED_STRICT: '' }), parse([]));
  });

  it('reads byte sizes with binary and decimal units or as plain integers', () => {
    const cases: Array<[string, number]> = [
      ['2GiB', 2 * GiB],
      ['512MiB', 512 * MiB],
      ['2Gi', 2 * GiB],
      ['1.5GB', 1.5e9],
      ['64 kib', 64 * 1024],
      ['1073741824', GiB],
    ];
    for (const [text, bytes] of cases) {
      assert.equal(parse(['--cache-bytes', text]).cacheMaxBytes, bytes, text);
    }
    assert.equal(parse(['--max-batch-bytes', '1GiB']).limits.maxBatchBytes, GiB);
  });

  it('bounds all batches by --batch-memory (256 MiB, or --max-batch-bytes if larger), and no lower than one batch', () => {
    assert.equal(parse([]).limits.batchMemoryBytes, 256 * MiB);
    assert.equal(DEFAULT_SERVICE_LIMITS.batchMemoryBytes, 256 * MiB);
    assert.equal(parse(['--batch-memory', '1GiB']).limits.batchMemoryBytes, GiB);
    assert.equal(parse([], { VOXELFEED_BATCH_MEMORY: '96MiB' }).limits.batchMemoryBytes, 96 * MiB);
    assert.equal(parse(['--max-batch-bytes', '512MiB']).limits.batchMemoryBytes, 512 * MiB);
    const message = problemsOf(['--batch-memory', '32MiB']);
    assertMentions(message, [
      '--batch-memory 32MiB: below the largest batch allowed (--max-batch-bytes 64.0 MiB)',
      'raise it to at least 64.0 MiB or lower --max-batch-bytes',
    ]);
    assert.equal(
      parse(['--batch-memory', '32MiB', '--max-batch-bytes', '32MiB']).limits.batchMemoryBytes,
      32 * MiB,
    );
    assertMentions(problemsOf(['--batch-memory', 'lots']), ['--batch-memory lots: not a byte size']);
    assert.match(SERVE_HELP, /--batch-memory SIZE .*VOXELFEED_BATCH_MEMORY/);
  });

  it('turns strict on with --strict or VOXELFEED_STRICT=1/true/yes/on, off with 0/false/no/off', () => {
    assert.equal(parse(['--strict']).strict, true);
    for (const word of ['1', 'true', 'TRUE', 'yes', 'on']) {
      assert.equal(parse([], { VOXELFEED_STRICT: word }).strict, true, word);
    }
    for (const word of ['0', 'false', 'no', 'off']) {
      assert.equal(parse([], { VOXELFEED_STRICT: word }).strict, false, word);
    }
    assert.equal(parse(['--strict'], { VOXELFEED_STRICT: '0' }).strict, true);
  });

  it('reports every bad value in one INVALID_ARGUMENT message, each with the value and the fix', () => {
    const message = problemsOf(
      ['--port', 'nope', '--cache-bytes', '12XB', '--log-level', 'loud', '--max-batch-bytes', '2GiB'],
      { VOXELFEED_SHUTDOWN_GRACE_MS: '-5', VOXELFEED_STRICT: 'maybe', VOXELFEED_MAX_CROP_VOXELS: '0' },
    );
    assertMentions(message, [
      '--port nope: must be an integer from 0 to 65535',
      '--cache-bytes 12XB: not a byte size; write e.g. 2GiB, 512MiB',
      '--log-level loud: use one of debug, info, warn, error, silent',
      '--max-batch-bytes 2GiB: must be from 1 byte to 1.00 GiB',
      'VOXELFEED_SHUTDOWN_GRACE_MS=-5: must be an integer from 0 to 3600000',
      'VOXELFEED_STRICT=maybe: use 1 or 0',
      'VOXELFEED_MAX_CROP_VOXELS=0: must be an integer from 1',
      'voxelfeed serve --help',
    ]);
    assert.equal(message.split('\n').length, 9, 'a header line, 7 problems, the hint');
  });

  it('names the variable, not the flag, when the bad value comes from the environment', () => {
    const message = problemsOf([], { VOXELFEED_PORT: '70000' });
    assertMentions(message, ['VOXELFEED_PORT=70000']);
    assert.ok(!message.includes('--port 70000'), message);
  });

  it('refuses integers that Number() would take: empty, hex, exponent, fraction', () => {
    for (const text of ['0x50', '1e3', '80.5', '-1']) {
      assertMentions(problemsOf(['--port', text]), [`--port ${text}: must be an integer`]);
    }
    assertMentions(problemsOf(['--cache-bytes', '0']), ['--cache-bytes 0: must be at least 1 byte']);
  });

  it('bounds the plan cache by --plan-cache-bytes, and names the flag or variable of a bad size', () => {
    assert.equal(parse(['--plan-cache-bytes', '1GiB']).planCacheMaxBytes, GiB);
    assertMentions(problemsOf(['--plan-cache-bytes', 'lots']), [
      '--plan-cache-bytes lots: not a byte size; write e.g. 2GiB, 512MiB',
    ]);
    assertMentions(problemsOf([], { VOXELFEED_PLAN_CACHE_BYTES: '0' }), [
      'VOXELFEED_PLAN_CACHE_BYTES=0: must be at least 1 byte; e.g. VOXELFEED_PLAN_CACHE_BYTES=256MiB',
    ]);
  });

  it('reports unknown options, missing values, valued flags and stray arguments together', () => {
    const message = problemsOf(['./data', '--bogus', '3', '--port', '--host', 'h', '--data=', '--strict=no']);
    assertMentions(message, [
      'unexpected argument "./data"; voxelfeed serve takes options only, e.g. --data ./data',
      'unknown option --bogus',
      '--port needs a value; e.g. --port 50051',
      '--data needs a value',
      '--strict=no: --strict takes no value',
    ]);
    // "3" is taken as --bogus's value, and "--host" is not checked again as a port number.
    assert.ok(!message.includes('"3"'), message);
    assert.ok(!message.includes('--port --host'), message);
  });

  it('refuses inherited object keys as option names', () => {
    assertMentions(problemsOf(['--constructor', '--toString']), [
      'unknown option --constructor',
      'unknown option --toString',
    ]);
  });

  it('takes TLS without a client CA, and a token file without TLS', () => {
    const tls = parse(['--tls-cert', 'server.crt', '--tls-key=server.key'], { VOXELFEED_TLS_CLIENT_CA: '' });
    assert.deepEqual(tls.tls, { certFile: 'server.crt', keyFile: 'server.key', clientCaFile: null });
    assert.equal(tls.authTokenFile, null);
    const tokens = parse(['--auth-token-file', 'tokens']);
    assert.equal(tokens.tls, null);
    assert.equal(tokens.authTokenFile, 'tokens');
    // A flag wins over its variable, as for every option.
    assert.equal(parse(['--auth-token-file', 'a'], { VOXELFEED_AUTH_TOKEN_FILE: 'b' }).authTokenFile, 'a');
  });

  it('refuses a certificate without its key, a key without its certificate and a client CA without TLS', () => {
    assertMentions(problemsOf(['--tls-cert', 'server.crt']), [
      '--tls-cert server.crt needs --tls-key FILE (VOXELFEED_TLS_KEY)',
    ]);
    assertMentions(problemsOf([], { VOXELFEED_TLS_KEY: 'server.key' }), [
      'VOXELFEED_TLS_KEY=server.key needs --tls-cert FILE (VOXELFEED_TLS_CERT)',
    ]);
    const message = problemsOf(['--tls-client-ca', 'ca.crt', '--tls-key', 'server.key']);
    assertMentions(message, [
      '--tls-client-ca ca.crt needs TLS: give --tls-cert FILE and --tls-key FILE too',
      '--tls-key server.key needs --tls-cert FILE',
    ]);
    assertMentions(problemsOf(['--auth-token-file']), [
      '--auth-token-file needs a value; e.g. --auth-token-file /',
    ]);
  });

  it('documents each security option with its variable in --help', () => {
    for (const [flag, variable] of [
      ['--tls-cert FILE', 'VOXELFEED_TLS_CERT'],
      ['--tls-key FILE', 'VOXELFEED_TLS_KEY'],
      ['--tls-client-ca FILE', 'VOXELFEED_TLS_CLIENT_CA'],
      ['--auth-token-file FILE', 'VOXELFEED_AUTH_TOKEN_FILE'],
    ]) {
      assert.match(SERVE_HELP, new RegExp(`^  ${flag} `, 'm'), flag);
      assert.match(SERVE_HELP, new RegExp(` ${variable}$`, 'm'), variable);
    }
  });

  it('returns help for --help or -h, even next to bad values', () => {
    assert.equal(parseServeConfig(['--help'], {}), 'help');
    assert.equal(parseServeConfig(['-h', '--port', 'nope', '--bogus'], { VOXELFEED_PORT: 'x' }), 'help');
    assertMentions(SERVE_HELP, ['Usage: voxelfeed serve', 'VOXELFEED_CACHE_DIR', 'listening on HOST:PORT']);
  });
});
