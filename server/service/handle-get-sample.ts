import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import type { GetSampleRequest } from '@voxelfeed/proto';
import { assemblerAroundBadSeries } from '../batches/assemble-around-bad-series.js';
import { resolveSampleRequest } from '../batches/crop-request.js';
import type { DatasetRegistry } from '../batches/served-dataset.js';
import type { Logger } from '../log/logger.js';
import { callLanding } from './call-landing.js';
import type { ServiceLimits } from './service-limits.js';
import { toGrpcStatus } from './to-grpc-status.js';

export interface GetSampleDeps {
  readonly registry: DatasetRegistry;
  readonly limits: ServiceLimits;
  readonly log: Logger;
}

/**
 * One sample as a batch of one, cut by the same code from the same draws as position `index` of any stream,
 * so its tensors are byte-identical to that sample's slice of a streamed batch. The answer is the batch with
 * its gRPC frame header, sent as it is (pre-framed-messages.ts) rather than framed into a copy; a float32
 * image is aligned for where the client's gRPC library receives it (call-landing.ts).
 */
export function createGetSampleHandler(deps: GetSampleDeps) {
  return (call: ServerUnaryCall<GetSampleRequest, Buffer>, callback: sendUnaryData<Buffer>): void => {
    const run = async () => {
      const request = resolveSampleRequest(call.request, deps.registry, deps.limits);
      const plan = await request.dataset.plans.get(
        request.policy,
        request.seed,
        request.epoch,
        request.split,
      );
      const header = { step: 0, stepsInEpoch: 0, rank: 0, worldSize: 1 };
      const imageLanding = callLanding(call.metadata);
      const { batch } = await assemblerAroundBadSeries({ request, plan, imageLanding })(
        [request.index],
        header,
      );
      return batch.framed;
    };
    run().then(
      (framed) => callback(null, framed),
      (error: unknown) => callback(toGrpcStatus(error, deps.log)),
    );
  };
}
