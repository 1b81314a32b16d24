import { createFeedClient, type FeedBatch, type SampleInfoView } from '@voxelfeed/client';
import { readFeedSecurity } from '../../config/read-feed-security.js';
import { feedFailure } from '../../feed-failure.js';
import { cropStats } from './crop-stats.js';
import { parseStatsConfig, STATS_HELP, type StatsConfig } from './stats-config.js';
import { writeStatsHistograms } from './stats-histograms.js';
import { type StatsSummary, statsJson, statsTable } from './stats-report.js';

/**
 * The composition root of `voxelfeed stats`: reads the config, counts the request's crops through a feed
 * client (`statsWithClient`), prints the table and one JSON line on stdout, and writes the PNG histograms
 * with --png-dir.
 */
export async function runStats(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const config = parseStatsConfig(argv, env);
  if (config === 'help') {
    process.stdout.write(`${STATS_HELP}\n`);
    return 0;
  }
  const summary = await statsWithClient(config, () => performance.now() / 1000);
  const pngs = config.pngDir === null ? [] : await writeStatsHistograms(summary.stats, config.pngDir);
  for (const file of pngs) process.stderr.write(`voxelfeed stats: wrote ${file}\n`);
  process.stdout.write(`${statsTable(summary)}\n${JSON.stringify({ ...statsJson(summary), pngs })}\n`);
  return 0;
}

/**
 * Streams the configured request from the server (TLS and token files read first; reconnecting and resuming
 * at the next step as any client does) and counts its crops. A feed failure becomes one line naming the
 * server and the fix.
 */
export async function statsWithClient(config: StatsConfig, now: () => number): Promise<StatsSummary> {
  const security = await readFeedSecurity(config);
  const feed = createFeedClient({
    addresses: [config.server],
    reconnect: { maxAttempts: config.reconnectAttempts },
    ...security.options,
  });
  try {
    return await countBatches(config, feed.streamBatches(config.request), now);
  } catch (error) {
    const line = feedFailure(error, [config.server], config.reconnectAttempts, '--server (VOXELFEED_SERVER)');
    if (line === null) throw error;
    throw line;
  } finally {
    feed.close();
  }
}

/** Counts the crops of a stream of batches: the records are kept, the tensors dropped as each batch arrives. */
export async function countBatches(
  config: Pick<StatsConfig, 'request'>,
  batches: AsyncIterable<FeedBatch>,
  now: () => number,
): Promise<StatsSummary> {
  const started = now();
  const samples: SampleInfoView[] = [];
  let steps = 0;
  let wireBytes = 0;
  for await (const batch of batches) {
    samples.push(...batch.samples);
    steps += 1;
    wireBytes += batch.wireBytes;
  }
  const { request } = config;
  return {
    stats: cropStats(samples, request.cropSize),
    cropSize: request.cropSize,
    steps,
    rank: request.rank ?? 0,
    worldSize: request.worldSize ?? 1,
    epoch: request.epoch ?? 0,
    seconds: now() - started,
    wireBytes,
  };
}
