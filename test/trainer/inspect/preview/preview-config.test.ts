import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../../../common/usage-error.js';
import {
  type PreviewConfig,
  parsePreviewConfig,
} from '../../../../trainer/inspect/preview/preview-config.js';

function parse(argv: readonly string[], env: NodeJS.ProcessEnv = {}): PreviewConfig {
  const config = parsePreviewConfig(argv, env);
  if (config === 'help') throw new Error('help');
  return config;
}

function problems(argv: readonly string[]): string {
  try {
    parse(argv);
  } catch (error) {
    assert.ok(error instanceof UsageError, String(error));
    return error.message;
  }
  assert.fail(`${argv.join(' ')} was accepted`);
}

describe('parsePreviewConfig', () => {
  it('writes files for one step by default, with the mask, every slice at scale 1', () => {
    const config = parse(['--out', 'pv', '--server', '127.0.0.1:5000', '--start-step', '3']);
    assert.deepEqual(config.output, { kind: 'files', outDir: 'pv' });
    assert.equal(config.request.maxSteps, 1);
    assert.equal(config.request.startStep, 3);
    assert.equal(config.request.includeMask, true);
    assert.equal(config.indices, null);
    assert.equal(config.every, 1);
    assert.equal(config.scale, 1);
  });

  it('serves the whole epoch on loopback unless --steps says otherwise', () => {
    const config = parse(['--serve', '127.0.0.1:0']);
    assert.deepEqual(config.output, {
      kind: 'serve',
      address: { host: '127.0.0.1', port: 0 },
      public: false,
    });
    assert.equal(config.request.maxSteps, 0);
    assert.equal(parse(['--serve', '8080', '--steps', '2']).request.maxSteps, 2);
    assert.deepEqual(parse(['--serve', '8080']).output, {
      kind: 'serve',
      address: { host: '127.0.0.1', port: 8080 },
      public: false,
    });
    assert.deepEqual(parse(['--serve', '[::1]:0']).output, {
      kind: 'serve',
      address: { host: '::1', port: 0 },
      public: false,
    });
  });

  it('refuses a non-loopback --serve without --serve-public, naming the fix', () => {
    assert.match(
      problems(['--serve', '0.0.0.0:8080']),
      /--serve 0\.0\.0\.0:8080: other machines could reach the crop browser .*serve on 127\.0\.0\.1 .*or add --serve-public/,
    );
    const config = parse(['--serve', '0.0.0.0:8080', '--serve-public']);
    assert.deepEqual(config.output, {
      kind: 'serve',
      address: { host: '0.0.0.0', port: 8080 },
      public: true,
    });
  });

  it('takes plan positions with --indices and refuses them beside the step options', () => {
    assert.deepEqual(parse(['--out', 'pv', '--indices', '4, 0,12']).indices, [4, 0, 12]);
    assert.match(
      problems(['--out', 'pv', '--indices', '1', '--steps', '2', '--batch', '4']),
      /--indices 1 with --steps 2, --batch 4: --indices names the samples/,
    );
  });

  it('reports every bad value at once, each with its limit', () => {
    const message = problems(['--out', 'pv', '--every', '0', '--indices', '1,x', '--scale', '99']);
    assert.match(message, /--every 0: must be an integer from 1 to 4096; e\.g\. --every 2/);
    assert.match(message, /--indices 1,x: give plan positions \(whole numbers from 0\) separated by commas/);
    assert.match(message, /--scale 99: must be an integer from 1 to 16/);
    assert.match(problems(['--out', 'pv', '--indices', '3,3']), /position 3 is given twice/);
    assert.match(problems(['--serve', 'localhost:70000']), /--serve localhost:70000: give HOST:PORT/);
  });

  it('needs --out or --serve, not both', () => {
    assert.match(problems([]), /missing --out DIR .* or --serve HOST:PORT/);
    assert.match(problems(['--out', 'pv', '--serve', '0']), /--out with --serve: .*give one/);
  });
});
