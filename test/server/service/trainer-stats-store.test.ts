import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TrainerStats } from '../../../gen/voxelfeed/v1/voxelfeed.js';
import { TrainerStatsStore } from '../../../server/service/trainer-stats-store.js';

function stats(overrides: Partial<TrainerStats>): TrainerStats {
  return {
    job: 'luna',
    rank: 0,
    worldSize: 2,
    step: 10n,
    gpuIdleSeconds: 1.5,
    stepSeconds: 20,
    dataWaitSeconds: 0.5,
    samples: 80n,
    epoch: 0,
    loss: 0.7,
    backend: 'cpu',
    ...overrides,
  };
}

describe('TrainerStatsStore', () => {
  it('keeps the latest report per job and rank', () => {
    let now = 1000;
    const store = new TrainerStatsStore(60_000, () => now);
    store.record(stats({ rank: 1, step: 5n }), 'ipv4:127.0.0.1:1');
    store.record(stats({ rank: 0, step: 5n }), 'ipv4:127.0.0.1:2');
    now += 10;
    store.record(stats({ rank: 1, step: 9n }), 'ipv4:127.0.0.1:1');
    const current = store.current();
    assert.deepEqual(
      current.map((report) => [report.stats.rank, report.stats.step]),
      [
        [0, 5n],
        [1, 9n],
      ],
    );
  });

  it('forgets a rank that stopped reporting once the timeout has passed', () => {
    let now = 0;
    const store = new TrainerStatsStore(60_000, () => now);
    store.record(stats({ rank: 0 }), 'a');
    now = 30_000;
    store.record(stats({ rank: 1 }), 'b');
    now = 60_001;
    assert.deepEqual(
      store.current().map((report) => report.stats.rank),
      [1],
    );
    now = 90_001;
    assert.deepEqual(store.current(), []);
  });

  it('refuses a report whose rank, job or figures cannot be right, naming them', () => {
    const store = new TrainerStatsStore(60_000);
    assert.throws(() => store.record(stats({ rank: 2, worldSize: 2 }), 'p'), /rank is 2 but world_size is 2/);
    assert.throws(() => store.record(stats({ job: '' }), 'p'), /name the job/);
    assert.throws(() => store.record(stats({ gpuIdleSeconds: Number.NaN }), 'p'), /gpu_idle_seconds is NaN/);
    assert.throws(() => store.record(stats({ stepSeconds: -1 }), 'p'), /step_seconds is -1/);
    assert.deepEqual(store.current(), []);
  });
});
