import { StreamTilesRequest } from '../../gen/voxelfeed/v1/voxelfeed.js';

/** A StreamTilesRequest as a client sends it: tiles of 8x16x16 and the proto's defaults, but for `fields`. */
export function streamTilesRequest(fields: Partial<StreamTilesRequest>): StreamTilesRequest {
  return StreamTilesRequest.fromPartial({ tileSize: [8, 16, 16], ...fields });
}
