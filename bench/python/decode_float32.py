"""Times the Python client's decode_batch on float32 batches as grpcio receives them from a real server.
Usage: /usr/bin/python3 bench/python/decode_float32.py [batches]   (not a part of npm run bench: a before/after check)"""
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "client" / "python" / "tests"))
from conftest import spawn_server, synth_dataset  # noqa: E402

import grpc  # noqa: E402
from voxelfeed._gen.voxelfeed.v1 import voxelfeed_pb2 as pb  # noqa: E402
from voxelfeed.batch import decode_batch  # noqa: E402

batches = int(sys.argv[1]) if len(sys.argv) > 1 else 200
warmup = 10
with tempfile.TemporaryDirectory() as tmp:
    data = synth_dataset(Path(tmp) / "phantom", series=6, shape="32,128,128", seed=3)
    server = spawn_server(["--data", str(data)])
    try:
        channel = grpc.insecure_channel(server.address, options=[("grpc.max_receive_message_length", -1)])
        call = channel.unary_stream("/voxelfeed.v1.VoxelFeed/StreamBatches",
                                    request_serializer=pb.StreamBatchesRequest.SerializeToString,
                                    response_deserializer=None)
        request = pb.StreamBatchesRequest(
            seed=1, batch_size=8, crop_size=[16, 96, 96], dtype=pb.DTYPE_FLOAT32, max_steps=batches + warmup,
            sampling=pb.SamplingOptions(samples_per_nodule=1, negatives_per_epoch=8 * (batches + warmup)))
        times, views = [], 0
        for seen, raw in enumerate(call(request)):
            started = time.perf_counter()
            batch = decode_batch(raw)
            ms = (time.perf_counter() - started) * 1000
            if seen >= warmup:
                times.append(ms)
                base = batch.image
                while isinstance(base, np.ndarray):
                    base = base.base
                views += base is raw
        channel.close()
    finally:
        server.kill()
times = np.sort(np.array(times))
print(f"decode_batch, {len(times)} float32 batches of 8x16x96x96 (4.7 MB): median {np.median(times):.3f} ms, "
      f"mean {times.mean():.3f} ms, p90 {np.quantile(times, 0.9):.3f} ms, max {times.max():.3f} ms; "
      f"image a view in {views} of {len(times)}")
