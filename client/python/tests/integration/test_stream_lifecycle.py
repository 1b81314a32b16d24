"""A stream always ends for its consumer, and a dropped stream stops its thread and its call."""

from __future__ import annotations

import gc
import threading
import time

from voxelfeed import FeedClient, FeedError, ReconnectPolicy

CROP = (8, 16, 16)
SLOW = ReconnectPolicy(initial_backoff_ms=50, max_backoff_ms=100, max_attempts=1000)


def prefetch_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "voxelfeed-prefetch" and t.is_alive())


def wait_until(predicate, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def consume_within(stream, seconds: float = 20):
    """list(stream) in a thread: what it returned or raised, failing the test if it is still blocked."""
    outcome = {}

    def consume():
        try:
            outcome["batches"] = list(stream)
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome["error"] = error

    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    consumer.join(seconds)
    assert not consumer.is_alive(), f"the consumer is still blocked after {seconds} s"
    return outcome


def test_close_from_another_thread_ends_a_consumer_waiting_on_a_retrying_stream():
    with FeedClient("127.0.0.1:1", reconnect=SLOW) as client:
        stream = client.stream_batches(crop_size=CROP, batch_size=1)
        threading.Timer(0.5, stream.close).start()
        assert consume_within(stream) == {"batches": []}


def test_an_on_retry_callback_that_raises_ends_the_stream_with_its_error():
    def on_retry(_event):
        raise RuntimeError("metrics backend down")

    with FeedClient("127.0.0.1:1", reconnect=SLOW) as client:
        outcome = consume_within(client.stream_batches(crop_size=CROP, batch_size=1, on_retry=on_retry))
    error = outcome["error"]
    assert isinstance(error, FeedError) and error.code == "UNKNOWN"
    assert "RuntimeError: metrics backend down" in str(error)


def test_leaving_a_loop_early_stops_the_thread_and_cancels_the_call(phantom_server):
    before = prefetch_threads()
    with FeedClient(phantom_server.address, prefetch=1) as client:
        for _ in range(3):
            for batch in client.stream_batches(crop_size=CROP, batch_size=1, sampling={"negatives_per_epoch": 500}):
                break
        del batch
        gc.collect()
        assert wait_until(lambda: prefetch_threads() == before), f"{prefetch_threads() - before} threads left"
        # The server ended those streams too: a fresh stream is served at once.
        assert next(iter(client.stream_batches(crop_size=CROP, batch_size=1, max_steps=1))).step == 0
