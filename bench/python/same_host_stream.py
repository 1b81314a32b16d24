"""One stream's MB/s and receiving CPU into Python (bench/same-host.ts, --only same-host): the voxelfeed client
on the normal stream or the same-host path, touching every batch as a trainer would (a sum over a sample).

Usage: same_host_stream.py ADDRESS SECONDS normal|shared DIRECTORY
Prints one JSON line: bytes, seconds, cpu_seconds.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "client" / "python"))

from voxelfeed import FeedClient  # noqa: E402


def main() -> None:
    address, seconds, mode, directory = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
    request = dict(
        crop_size=(16, 96, 96), batch_size=8, seed=1, include_mask=True, dtype="uint8",
        sampling={"samples_per_nodule": 1, "negatives_per_epoch": 100_000},
    )
    shared = directory if mode == "shared" else False
    received = 0
    with FeedClient(address) as client:
        stream = client.stream_batches(shared_memory=shared, **request)
        next(stream)  # the call, the probe and the first batch before the clock starts
        started, cpu = time.monotonic(), time.process_time()
        for batch in stream:
            received += batch.image.nbytes + batch.mask.nbytes
            int(batch.image[-1, -1, -1].sum())  # read a row, as a trainer's first touch would
            if time.monotonic() - started > seconds:
                break
        elapsed, cpu_used = time.monotonic() - started, time.process_time() - cpu
        stream.close()
    print(json.dumps({"bytes": received, "seconds": elapsed, "cpu_seconds": cpu_used}))


if __name__ == "__main__":
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    main()
