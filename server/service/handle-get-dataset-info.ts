import { status as GrpcStatus, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import type { DatasetInfo, GetDatasetInfoRequest } from '@voxelfeed/proto';
import type { DatasetRegistry } from '../batches/served-dataset.js';
import { unknownDatasetError } from '../batches/unknown-dataset-error.js';
import type { Logger } from '../log/logger.js';
import { DEFAULT_SAMPLING_POLICY } from '../sampling/types.js';
import type { ServiceLimits } from './service-limits.js';
import { toGrpcStatus } from './to-grpc-status.js';

export interface GetDatasetInfoDeps {
  readonly registry: DatasetRegistry;
  readonly limits: ServiceLimits;
  readonly log: Logger;
}

export function createGetDatasetInfoHandler(deps: GetDatasetInfoDeps) {
  return (
    call: ServerUnaryCall<GetDatasetInfoRequest, DatasetInfo>,
    callback: sendUnaryData<DatasetInfo>,
  ): void => {
    try {
      const name = call.request.dataset === '' ? deps.registry.defaultName : call.request.dataset;
      const served = deps.registry.datasets.get(name);
      if (served === undefined) {
        throw unknownDatasetError(call.request.dataset, deps.registry.datasets.keys());
      }
      const { catalog } = served;
      callback(null, {
        dataset: name,
        series: catalog.series.length,
        nodules: catalog.nodules,
        fingerprint: catalog.fingerprint,
        skippedSeries: catalog.skipped.length,
        seriesInfo: catalog.series.map((series) => ({
          seriesUid: series.uid,
          shape: [...series.shape],
          nodules: series.nodules.length,
        })),
        maxCropVoxels: BigInt(deps.limits.maxCropVoxels),
        defaultItemsPerEpoch: BigInt(
          catalog.nodules * DEFAULT_SAMPLING_POLICY.samplesPerNodule +
            DEFAULT_SAMPLING_POLICY.negativesPerEpoch,
        ),
      });
    } catch (error) {
      const status = toGrpcStatus(error, deps.log);
      callback({ ...status, code: status.code ?? GrpcStatus.INTERNAL });
    }
  };
}
