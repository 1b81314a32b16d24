import { CollectiveError } from './collective-error.js';
import type { ProcessGroup } from './process-group.js';

/** World size 1: no network; the mean over one rank is its own data, and a broadcast returns rank 0's bytes. */
export function singleProcessGroup(): ProcessGroup {
  let closed = false;
  const refuseClosed = () => {
    if (closed) {
      throw new CollectiveError('FAILED_PRECONDITION', null, 'the process group is closed; start a new one');
    }
  };
  return {
    rank: 0,
    worldSize: 1,
    allReduceSeconds: 0,
    failure: new Promise<never>(() => {}),
    async allReduceMean() {
      refuseClosed();
    },
    async broadcast(data, label) {
      refuseClosed();
      if (data === null) {
        throw new CollectiveError(
          'INVALID_ARGUMENT',
          0,
          `broadcast "${label}": rank 0 passed no data; rank 0 gives the bytes, the other ranks pass null`,
        );
      }
      return data;
    },
    async close() {
      closed = true;
    },
  };
}
