import { createFeedClient } from '../../client/index.js';
import { TrainerMetrics } from '../../trainer/metrics/trainer-metrics.js';
import { streamAll } from './grpc-calls.js';
import { createPhantomDataset } from './phantom-dataset.js';
import { scrapeMetrics, startTestServer } from './test-server.js';

export interface ExercisedMetrics {
  /** A real server's /metrics page after a stream ran to its end and a trainer rank reported its stats. */
  readonly server: string;
  /** A real trainer registry's page after one step, its gradient exchange and one validation. */
  readonly trainer: string;
}

/**
 * The Prometheus pages of a real server and a real trainer registry, exercised so that every labelled series
 * and every histogram has samples (prom-client prints a labelled series only once it has been used).
 */
export async function scrapeExercisedMetrics(): Promise<ExercisedMetrics> {
  const dataset = await createPhantomDataset({ series: 3, shape: [24, 48, 48], seed: 5n });
  try {
    const server = await startTestServer({ data: dataset.dir });
    try {
      // A stream to its end: loader stages (read and decode on cache misses), cache outcomes, batches sent,
      // stream end OK, backpressure.
      await streamAll(server.client, { batchSize: 2, cropSize: [8, 16, 16], maxSteps: 3n });
      const feed = createFeedClient({ address: server.address });
      try {
        await feed.reportTrainerStats({
          job: 'exercise',
          rank: 0,
          step: 3,
          gpuIdleSeconds: 0.5,
          stepSeconds: 1.5,
          dataWaitSeconds: 0.25,
          samples: 6,
        });
      } finally {
        feed.close();
      }
      const serverText = await scrapeMetrics(server.running);

      const trainer = new TrainerMetrics('exercise', 0);
      trainer.recordStep(
        { idleSeconds: 0.01, computeSeconds: 0.2, dataWaitSeconds: 0.005, samples: 2 },
        0.7,
        0.05,
      );
      trainer.recordAllReduce(0.03);
      trainer.recordValidation(0.4);
      return { server: serverText, trainer: await trainer.registry.metrics() };
    } finally {
      await server.close();
    }
  } finally {
    await dataset.cleanup();
  }
}
