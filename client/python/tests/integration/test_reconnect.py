"""A stream across a killed and restarted server: every step once, in order, byte for byte."""

from __future__ import annotations

import hashlib

from voxelfeed import FeedClient, ReconnectPolicy

REQUEST = {"crop_size": (8, 16, 16), "batch_size": 2, "seed": 5, "include_mask": True,
           "sampling": {"negatives_per_epoch": 60}}
# A small HTTP/2 window: the server cannot push the rest of the epoch into the client before the kill.
SMALL_WINDOW = {"grpc.http2.lookahead_bytes": 65535, "grpc.http2.bdp_probe": 0}


def fingerprint(batch) -> tuple:
    return batch.step, hashlib.sha256(batch.image.tobytes() + batch.mask.tobytes()).hexdigest()


def test_a_stream_resumes_after_the_server_restarts(phantom_dir, start_server):
    server = start_server(["--data", str(phantom_dir)])
    with FeedClient(server.address) as client:
        reference = [fingerprint(b) for b in client.stream_batches(**REQUEST)]
    assert len(reference) > 10
    retries = []
    seen = []
    policy = ReconnectPolicy(initial_backoff_ms=20, max_backoff_ms=250, max_attempts=100)
    with FeedClient(server.address, prefetch=1, reconnect=policy, channel_options=SMALL_WINDOW) as client:
        for batch in client.stream_batches(**REQUEST, on_retry=retries.append):
            seen.append(fingerprint(batch))
            if len(seen) == 4:
                server.kill()
                start_server(["--data", str(phantom_dir)], port=server.port)
    assert seen == reference
    assert retries, "the stream was cut and resumed"
    assert all(r.error.code in ("UNAVAILABLE", "INTERNAL", "CANCELLED") for r in retries), retries
    assert 4 <= retries[0].resume_at_step < len(reference)
