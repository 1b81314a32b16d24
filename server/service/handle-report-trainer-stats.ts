import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import type { ReportTrainerStatsResponse, TrainerStats } from '@voxelfeed/proto';
import type { Logger } from '../log/logger.js';
import { toGrpcStatus } from './to-grpc-status.js';
import type { TrainerStatsStore } from './trainer-stats-store.js';

export function createReportTrainerStatsHandler(deps: {
  readonly store: TrainerStatsStore;
  readonly log: Logger;
}) {
  return (
    call: ServerUnaryCall<TrainerStats, ReportTrainerStatsResponse>,
    callback: sendUnaryData<ReportTrainerStatsResponse>,
  ): void => {
    try {
      deps.store.record(call.request, call.getPeer());
      callback(null, {});
    } catch (error) {
      callback(toGrpcStatus(error, deps.log));
    }
  };
}
