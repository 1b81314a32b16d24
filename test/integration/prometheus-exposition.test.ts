import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type ExercisedMetrics, scrapeExercisedMetrics } from '../support/exercised-metrics.js';
import { runPromtool } from '../support/prometheus-tools.js';

/** `promtool check metrics` lints a page read on stdin: it prints one line per problem, nothing when clean. */
async function lint(page: string): Promise<string> {
  const result = await runPromtool(['check', 'metrics'], { input: page });
  return (
    `${result.stdout}${result.stderr}`.trim() + (result.code === 0 ? '' : `\n(exit code ${result.code})`)
  );
}

describe('the /metrics pages', () => {
  let pages: ExercisedMetrics;

  before(async () => {
    pages = await scrapeExercisedMetrics();
  });

  it("of a server that has streamed and received a rank's stats pass promtool check metrics", async () => {
    // The page must hold what is linted: histogram buckets with data and the re-exported trainer series.
    assert.match(pages.server, /^voxelfeed_loader_stage_seconds_bucket\{le="\+Inf",stage="batch"\} [1-9]/m);
    assert.match(pages.server, /^voxelfeed_trainer_gpu_idle_seconds_total\{job="exercise",rank="0"\} 0\.5$/m);
    // The cache's loads, running and queued apart, all done once the stream has ended.
    assert.match(pages.server, /^voxelfeed_cache_loads_running 0$/m);
    assert.match(pages.server, /^voxelfeed_cache_loads_queued 0$/m);
    assert.equal(await lint(pages.server), '');
  });

  it('of a trainer that has trained a step pass promtool check metrics', async () => {
    assert.match(
      pages.trainer,
      /^voxelfeed_trainer_step_seconds_bucket\{le="\+Inf",job="exercise",rank="0"\} 1$/m,
    );
    assert.match(
      pages.trainer,
      /^voxelfeed_trainer_allreduce_seconds_sum\{job="exercise",rank="0"\} 0\.03$/m,
    );
    assert.equal(await lint(pages.trainer), '');
  });

  it('are linted for real: promtool reports a counter without the _total suffix', async () => {
    const bad = '# HELP voxelfeed_x Bad.\n# TYPE voxelfeed_x counter\nvoxelfeed_x 1\n';
    assert.match(await lint(bad), /counter metrics should have "_total" suffix/);
  });
});
