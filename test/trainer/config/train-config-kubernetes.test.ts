import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../../common/usage-error.js';
import { kubernetesRank, parseTrainConfig, TRAIN_HELP } from '../../../trainer/config/train-config.js';

const IN_POD = { KUBERNETES_SERVICE_HOST: '10.96.0.1' };

function rankOf(argv: string[], env: NodeJS.ProcessEnv): number {
  const config = parseTrainConfig(argv, env);
  assert.notEqual(config, 'help');
  return config === 'help' ? -1 : config.rank;
}

describe('the trainer rank on Kubernetes', () => {
  it('takes an Indexed Job pod rank from JOB_COMPLETION_INDEX', () => {
    assert.equal(rankOf([], { ...IN_POD, JOB_COMPLETION_INDEX: '2', VOXELFEED_WORLD_SIZE: '4' }), 2);
  });

  it('prefers JOB_COMPLETION_INDEX to the host name, whose Job suffix is random', () => {
    const env = { ...IN_POD, JOB_COMPLETION_INDEX: '1', HOSTNAME: 'train-3', VOXELFEED_WORLD_SIZE: '4' };
    assert.equal(rankOf([], env), 1);
  });

  it('takes a StatefulSet pod rank from the ordinal suffix of HOSTNAME', () => {
    assert.equal(rankOf(['--world-size', '4'], { ...IN_POD, HOSTNAME: 'voxelfeed-trainer-3' }), 3);
  });

  it('ignores the host name outside a pod, so a machine named gpu-2 stays rank 0', () => {
    assert.equal(rankOf(['--world-size', '4'], { HOSTNAME: 'gpu-2' }), 0);
    assert.equal(kubernetesRank({ HOSTNAME: 'gpu-2' }), null);
  });

  it('ignores a host name without an ordinal suffix', () => {
    assert.equal(kubernetesRank({ ...IN_POD, HOSTNAME: 'voxelfeed-trainer-abc12' }), null);
  });

  it('lets --rank and VOXELFEED_RANK win over what Kubernetes gives', () => {
    const env = { ...IN_POD, JOB_COMPLETION_INDEX: '2', HOSTNAME: 'train-3', VOXELFEED_WORLD_SIZE: '4' };
    assert.equal(rankOf(['--rank', '0'], env), 0);
    assert.equal(rankOf([], { ...env, VOXELFEED_RANK: '1' }), 1);
  });

  it('names the variable when the pod index is not below the world size', () => {
    assert.throws(
      () => parseTrainConfig([], { JOB_COMPLETION_INDEX: '2', VOXELFEED_WORLD_SIZE: '2' }),
      (error: unknown) =>
        error instanceof UsageError &&
        error.message.includes('JOB_COMPLETION_INDEX=2 with VOXELFEED_WORLD_SIZE=2: rank must be 0..1'),
    );
  });

  it('documents both sources in --help', () => {
    assert.match(TRAIN_HELP, /JOB_COMPLETION_INDEX/);
    assert.match(TRAIN_HELP, /HOSTNAME/);
    assert.match(TRAIN_HELP, /KUBERNETES_SERVICE_HOST/);
  });
});
