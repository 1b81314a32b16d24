"""One rank's batches of one epoch as an iterator: prefetched by a thread, resumed after connection failures."""

from __future__ import annotations

import math
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import grpc

from ._gen.voxelfeed.v1 import voxelfeed_pb2 as pb
from .batch import Batch, MalformedBatch, decode_batch
from .channels import FeedChannels
from .errors import FeedError, is_retryable, to_feed_error
from .reconnect import ReconnectPolicy, backoff_delay_s, give_up_error

STREAM_METHOD = "/voxelfeed.v1.VoxelFeed/StreamBatches"
# How often a producer blocked on a full queue looks whether the stream was closed.
_POLL_S = 0.1


@dataclass(frozen=True)
class RetryEvent:
    """Passed to `on_retry` before each new call after a connection failure."""

    failures: int  # failed calls in a row, counting from the last call that delivered a batch
    delay_s: float  # the wait before the next call
    resume_at_step: int  # the start_step of the next call
    error: FeedError  # why the last call failed


class _End:
    pass


_END = _End()


class BatchStream:
    """The batches of one StreamBatches request, in step order.

    A thread moves batches from the gRPC stream into a queue of `prefetch` batches and stops reading while it
    is full, so gRPC's flow control holds the server back. When the connection fails (UNAVAILABLE, INTERNAL
    for a reset stream, or a CANCELLED this client did not ask for) it calls again after a jittered backoff
    with start_step = the last received step + step_stride and max_steps reduced by what was received, so the
    consumer sees every step once and in order, whichever replica answers; it gives up with UNAVAILABLE after
    `policy.max_attempts` failed calls in a row. Any other status ends the iteration with a FeedError after the
    batches already received. `close()` (or leaving a `with` block) cancels the call.
    """

    def __init__(
        self,
        channels: FeedChannels,
        request: pb.StreamBatchesRequest,
        prefetch: int,
        policy: ReconnectPolicy,
        on_retry: Callable[[RetryEvent], None] | None = None,
    ):
        self._channels = channels
        self._request = request
        self._policy = policy
        self._on_retry = on_retry
        self._queue: queue.Queue = queue.Queue(maxsize=prefetch)
        self._stop = threading.Event()
        self._abort_error: FeedError | None = None
        self._call = None
        self._call_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._done = False

    def __iter__(self) -> BatchStream:
        return self

    def __next__(self) -> Batch:
        if self._done:
            raise StopIteration
        if self._thread is None:
            self._thread = threading.Thread(target=self._produce, name="voxelfeed-prefetch", daemon=True)
            self._thread.start()
        while True:
            if self._abort_error is not None:
                self._done = True
                raise self._abort_error
            try:
                item = self._queue.get(timeout=_POLL_S)
                break
            except queue.Empty:
                continue
        if item is _END:
            self._done = True
            raise StopIteration
        if isinstance(item, FeedError):
            self._done = True
            raise item
        return item

    def close(self, error: FeedError | None = None) -> None:
        """Cancels the stream; a later `next()` raises `error` if given, else ends the iteration."""
        if error is not None and not self._done:
            self._abort_error = error
        elif not self._done and error is None:
            self._done = True
        self._stop.set()
        with self._call_lock:
            if self._call is not None:
                self._call.cancel()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def __enter__(self) -> BatchStream:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __del__(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            call = self._call
            if call is not None:
                call.cancel()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        request = self._request
        stride = max(1, request.step_stride)
        next_step = request.start_step
        received = 0
        steps_in_epoch = math.inf
        failures = 0
        started = time.monotonic()
        while not self._stop.is_set():
            step_before = next_step
            channel, address = self._channels.next()
            wire = pb.StreamBatchesRequest()
            wire.CopyFrom(request)
            wire.start_step = next_step
            wire.max_steps = 0 if request.max_steps == 0 else request.max_steps - received
            method = channel.unary_stream(
                STREAM_METHOD,
                request_serializer=pb.StreamBatchesRequest.SerializeToString,
                response_deserializer=None,  # the raw bytes: decode_batch makes views into them
            )
            try:
                with self._call_lock:
                    if self._stop.is_set():
                        return
                    call = method(wire, metadata=self._channels.metadata)
                    self._call = call
                for raw in call:
                    batch = decode_batch(raw)
                    if batch.step != next_step:
                        call.cancel()
                        details = f"the server sent step {batch.step} where step {next_step} was due"
                        self._put(FeedError("DATA_LOSS", details, f"StreamBatches on {address}: {details}"))
                        return
                    next_step = batch.step + stride
                    received += 1
                    steps_in_epoch = batch.steps_in_epoch
                    if not self._put(batch):
                        return
                self._put(_END)
                return
            except MalformedBatch as malformed:
                details = f"a batch could not be read: {malformed}"
                self._put(FeedError("DATA_LOSS", details, f"StreamBatches on {address}: {details}"))
                return
            except grpc.RpcError as rpc_error:
                if self._stop.is_set():
                    return
                error = to_feed_error(rpc_error, "StreamBatches", address)
            finally:
                with self._call_lock:
                    self._call = None
            finished = next_step >= steps_in_epoch or (request.max_steps > 0 and received >= request.max_steps)
            if finished:
                self._put(_END)
                return
            # A CANCELLED this client did not ask for comes from the other side (a server ending its streams at
            # the end of its shutdown grace, or a proxy): the epoch goes on elsewhere.
            if not is_retryable(error) and error.code != "CANCELLED":
                self._put(error)
                return
            failures = (0 if next_step > step_before else failures) + 1
            if failures >= self._policy.max_attempts:
                context = f" since the stream started, resuming at step {next_step}"
                self._put(
                    give_up_error("StreamBatches", self._channels.description, failures, started, error, context)
                )
                return
            delay = backoff_delay_s(failures, self._policy, random.random())
            if self._on_retry is not None:
                self._on_retry(RetryEvent(failures, delay, next_step, error))
            if self._stop.wait(delay):
                return
