import type { ServerWritableStream } from '@grpc/grpc-js';
import type { StreamTilesRequest } from '@voxelfeed/proto';
import type { BatchMemory } from '../batches/batch-memory.js';
import type { EncodedBatch } from '../batches/encoded-batch.js';
import type { DatasetRegistry } from '../batches/served-dataset.js';
import { streamReadyTiles } from '../batches/stream-ready-tiles.js';
import { resolveTileRequest } from '../batches/tile-request.js';
import { quoteShort } from '../batches/unknown-dataset-error.js';
import { callLanding } from './call-landing.js';
import { type MessageStreamDeps, serveMessageStream } from './serve-message-stream.js';
import type { ServiceLimits } from './service-limits.js';

export interface StreamTilesDeps extends MessageStreamDeps {
  readonly registry: DatasetRegistry;
  readonly limits: ServiceLimits;
  /** Where every stream's message buffers come from: the server's budget for them (--batch-memory). */
  readonly batchMemory: BatchMemory;
}

/**
 * Serves the tiles of whole series for sliding-window inference: the messages come from streamReadyTiles
 * (up to `prefetchBatches` prepared ahead), sent like StreamBatches' by serveMessageStream: the same slot
 * against --max-streams, the same bound on messages held, the same cancel, drain and end-of-stream line.
 */
export function createStreamTilesHandler(deps: StreamTilesDeps) {
  return (call: ServerWritableStream<StreamTilesRequest, EncodedBatch['framed']>): Promise<void> => {
    const request = call.request;
    return serveMessageStream(call, deps, {
      logFields: {
        method: 'StreamTiles',
        dataset: request.dataset,
        series:
          request.seriesUids.length > 0
            ? `${request.seriesUids.length} named, first ${quoteShort(request.seriesUids[0]!)}`
            : request.split === undefined
              ? 'all'
              : `split part ${request.split.part}`,
        tile: request.tileSize.join('x'),
        overlap: request.overlap.join(','),
        batchSize: request.batchSize,
        startSeries: request.startSeries,
        startTile: String(request.startTile),
      },
      messages: (signal, log, streamId) =>
        streamReadyTiles(resolveTileRequest(request, deps.registry, deps.limits), signal, {
          prefetchBatches: deps.limits.prefetchBatches,
          batchMemory: deps.batchMemory,
          log,
          streamId,
          observer: deps.observer,
          imageLanding: callLanding(call.metadata),
        }),
    });
  };
}
