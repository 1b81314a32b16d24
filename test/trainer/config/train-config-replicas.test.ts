import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../../common/usage-error.js';
import { parseTrainConfig, type TrainConfig } from '../../../trainer/config/train-config.js';

function parsed(argv: string[], env: NodeJS.ProcessEnv = {}): TrainConfig {
  const config = parseTrainConfig(argv, env);
  assert.ok(config !== 'help');
  return config;
}

describe('parseTrainConfig: replicas', () => {
  it('takes a dns:/// name standing for every replica behind it', () => {
    assert.deepEqual(parsed(['--server', 'dns:///voxelfeed.ml.svc:50051']).servers, [
      'dns:///voxelfeed.ml.svc:50051',
    ]);
    assert.deepEqual(parsed([], { VOXELFEED_SERVER: 'dns://10.0.0.10/voxelfeed:7' }).servers, [
      'dns://10.0.0.10/voxelfeed:7',
    ]);
  });

  it('refuses a server without a port, naming it and both accepted forms', () => {
    for (const server of ['dns:///voxelfeed', 'voxelfeed', 'http://voxelfeed:50051']) {
      assert.throws(
        () => parseTrainConfig(['--server', server], {}),
        (error: unknown) =>
          error instanceof UsageError &&
          error.message.includes(`--server ${server}: expected HOST:PORT or dns:///NAME:PORT`),
        server,
      );
    }
  });

  it('turns rank affinity on with --rank-affinity or VOXELFEED_RANK_AFFINITY=1, off by default', () => {
    assert.equal(parsed([]).rankAffinity, false);
    assert.equal(parsed(['--rank-affinity']).rankAffinity, true);
    assert.equal(parsed([], { VOXELFEED_RANK_AFFINITY: '1' }).rankAffinity, true);
    assert.equal(parsed([], { VOXELFEED_RANK_AFFINITY: '0' }).rankAffinity, false);
    assert.throws(
      () => parseTrainConfig([], { VOXELFEED_RANK_AFFINITY: 'maybe' }),
      /VOXELFEED_RANK_AFFINITY=maybe: use 1 or 0/,
    );
  });
});

describe('parseTrainConfig: rank groups', () => {
  it('defaults to 1 and takes --rank-groups or VOXELFEED_RANK_GROUPS up to the world size', () => {
    assert.equal(parsed([]).rankGroups, 1);
    assert.equal(parsed(['--world-size', '4', '--rank-groups', '2']).rankGroups, 2);
    assert.equal(parsed(['--world-size', '4'], { VOXELFEED_RANK_GROUPS: '4' }).rankGroups, 4);
  });

  it('refuses more groups than ranks, naming both and the fix', () => {
    assert.throws(
      () => parseTrainConfig(['--world-size', '2', '--rank-groups', '3'], {}),
      /--rank-groups 3 with --world-size 2: use 1\.\.2 \(the number of server replicas\)/,
    );
  });
});
