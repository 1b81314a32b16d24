import {
  type AssembleContext,
  assembleBatch,
  type BatchHeader,
  type BatchTimings,
} from './assemble-batch.js';
import type { EncodedBatch } from './encoded-batch.js';

export type BatchAssembler = (
  positions: readonly number[],
  header: BatchHeader,
) => Promise<{ batch: EncodedBatch; timings: BatchTimings; backgroundMisses: number }>;

/**
 * Assembles batches of `context.plan` for one call. Without `--replace-bad-series` that is `assembleBatch` as it is: a
 * series found unreadable fails the batch with DATA_LOSS. With it, batches come from the plan without the
 * series found bad so far (`planWithoutSeries`, the same on every replica that knows the same bad set; built
 * once per bad-set size by the data set's PlanCache and shared by all its streams), and a batch that hits a
 * series found bad meanwhile is drawn again; the bad set only grows, so the retries end.
 * Streams and GetSample share this, so a sample fetched alone equals its slice of a streamed batch.
 */
export function assemblerAroundBadSeries(context: AssembleContext): BatchAssembler {
  const { request, plan, signal } = context;
  const { cache, plans, replaceBadSeries } = request.dataset;
  return async (positions, header) => {
    for (;;) {
      const bad = replaceBadSeries === true ? cache.failedKeys.size : 0;
      const avoiding = bad === 0 ? plan : await plans.withoutBadSeries(plan, cache.failedKeys);
      try {
        return await assembleBatch({ ...context, plan: avoiding }, positions, header);
      } catch (error) {
        if (replaceBadSeries !== true || cache.failedKeys.size === bad || signal?.aborted) throw error;
      }
    }
  };
}
