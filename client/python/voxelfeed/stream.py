"""One rank's batches of one epoch as an iterator: prefetched by a thread, resumed after connection failures."""

from __future__ import annotations

import math
import queue
import random
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import grpc

from ._gen.voxelfeed.v1 import voxelfeed_pb2 as pb
from .batch import Batch, MalformedBatch, decode_batch
from .channels import FeedChannels
from .errors import FeedError, is_retryable, to_feed_error
from .reconnect import ReconnectPolicy, backoff_delay_s, give_up_error

SERVICE = "/voxelfeed.v1.VoxelFeed/"
# How often a producer blocked on a full queue looks whether the stream was closed.
_POLL_S = 0.1


@dataclass(frozen=True)
class RetryEvent:
    """Passed to `on_retry` before each new call after a connection failure."""

    failures: int  # failed calls in a row, counting from the last call that delivered a batch
    delay_s: float  # the wait before the next call
    resume_at_step: int  # the start_step of the next call
    error: FeedError  # why the last call failed


class PrefetchStream:
    """The messages of one server-streaming call, decoded, in order, read ahead by a thread and resumed after
    connection failures where a `cursor` says (see BatchStream; FeedClient.stream_tiles for tiles)."""

    def __init__(self, channels: FeedChannels, cursor, prefetch: int, policy: ReconnectPolicy, on_retry=None):
        # The thread runs a producer that holds no reference to this object, so a stream the consumer drops
        # is collected, and its finalizer stops the producer and cancels the call.
        self._producer = _Producer(channels, cursor, prefetch, policy, on_retry)
        self._finalizer = weakref.finalize(self, self._producer.stop)
        self._thread: threading.Thread | None = None
        self._abort_error: FeedError | None = None
        self._done = False

    def __iter__(self):
        return self

    def __next__(self):
        if self._done:
            raise StopIteration
        if self._thread is None:
            self._thread = threading.Thread(target=self._producer.run, name="voxelfeed-prefetch", daemon=True)
            self._thread.start()
        producer = self._producer
        while True:
            if self._abort_error is not None:
                self._done = True
                raise self._abort_error
            try:
                return producer.queue.get(timeout=_POLL_S)
            except queue.Empty:
                # Batches are queued before the producer finishes, so an empty queue after it has finished
                # means every batch has been taken.
                if producer.finished.is_set() and producer.queue.empty():
                    self._done = True
                    if isinstance(producer.outcome, FeedError):
                        raise producer.outcome from None
                    raise StopIteration from None

    def close(self, error: FeedError | None = None) -> None:
        """Cancels the stream; a later `next()` raises `error` if given, else ends the iteration."""
        if not self._done:
            if error is not None:
                self._abort_error = error
            else:
                self._done = True
        self._producer.stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class BatchStream(PrefetchStream):
    """The batches of one StreamBatches request, in step order.

    A thread moves batches from the gRPC stream into a queue of `prefetch` batches and stops reading while it
    is full, so gRPC's flow control holds the server back. When the connection fails (UNAVAILABLE, INTERNAL
    for a reset stream, or a CANCELLED this client did not ask for) it calls again after a jittered backoff
    with start_step = the last received step + step_stride and max_steps reduced by what was received, so the
    consumer sees every step once and in order, whichever replica answers; it gives up with UNAVAILABLE after
    `policy.max_attempts` failed calls in a row. Any other status ends the iteration with a FeedError after the
    batches already received. `close()`, leaving a `with` block, or dropping the stream (a `for` loop left with
    `break`) cancels the call and stops the thread.
    """

    def __init__(
        self,
        channels: FeedChannels,
        request: pb.StreamBatchesRequest,
        prefetch: int,
        policy: ReconnectPolicy,
        on_retry: Callable[[RetryEvent], None] | None = None,
    ):
        super().__init__(channels, _StepCursor(request), prefetch, policy, on_retry)

    def __next__(self) -> Batch:
        return super().__next__()


class OutOfOrder(Exception):
    """A cursor got a message other than the one due (DATA_LOSS for the consumer)."""


class _StepCursor:
    """Where a StreamBatches stream stands: the next step due, and the request that resumes there."""

    method = "StreamBatches"
    noun = "batch"

    def __init__(self, request: pb.StreamBatchesRequest):
        self.request = request
        self.stride = max(1, request.step_stride)
        self.next_step = request.start_step
        self.received = 0
        self.steps_in_epoch = math.inf

    def next_request(self) -> pb.StreamBatchesRequest:
        wire = pb.StreamBatchesRequest()
        wire.CopyFrom(self.request)
        wire.start_step = self.next_step
        wire.max_steps = 0 if self.request.max_steps == 0 else self.request.max_steps - self.received
        return wire

    def take(self, raw: bytes) -> Batch:
        batch = decode_batch(raw)
        if batch.step != self.next_step:
            raise OutOfOrder(f"the server sent step {batch.step} where step {self.next_step} was due")
        self.next_step = batch.step + self.stride
        self.received += 1
        self.steps_in_epoch = batch.steps_in_epoch
        return batch

    def position(self) -> int:
        return self.next_step

    def complete(self) -> bool:
        max_steps = self.request.max_steps
        return self.next_step >= self.steps_in_epoch or (max_steps > 0 and self.received >= max_steps)

    def retry_event(self, failures: int, delay: float, error: FeedError) -> RetryEvent:
        return RetryEvent(failures, delay, self.next_step, error)

    def resume_context(self) -> str:
        return f"resuming at step {self.next_step}"


class _Producer:
    """The thread's side of a stream: calls, resumes where the cursor says, queues messages, and records how it
    ended."""

    def __init__(self, channels, cursor, prefetch, policy, on_retry):
        self.channels = channels
        self.cursor = cursor
        self.policy = policy
        self.on_retry = on_retry
        self.queue: queue.Queue = queue.Queue(maxsize=prefetch)
        self.stopping = threading.Event()
        self.finished = threading.Event()
        # None: ended normally (or stopped); a FeedError: the error the consumer gets after the queued messages.
        self.outcome: FeedError | None = None
        self._call = None
        self._call_lock = threading.Lock()

    def stop(self) -> None:
        self.stopping.set()
        with self._call_lock:
            if self._call is not None:
                self._call.cancel()

    def run(self) -> None:
        try:
            self.outcome = self._stream()
        except BaseException as error:  # noqa: BLE001 - whatever ends the thread must reach the consumer
            self.outcome = FeedError(
                "UNKNOWN",
                f"{type(error).__name__}: {error}",
                f"{self.cursor.method} on {self.channels.description} stopped: {type(error).__name__}: {error}",
            )
        finally:
            self.finished.set()

    def _put(self, item) -> bool:
        while not self.stopping.is_set():
            try:
                self.queue.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _stream(self) -> FeedError | None:
        """Streams to the end, a final error or a stop; returns the error the consumer gets, if any."""
        cursor = self.cursor
        method_name = cursor.method
        failures = 0
        started = time.monotonic()
        while not self.stopping.is_set():
            position_before = cursor.position()
            channel, address = self.channels.next()
            wire = cursor.next_request()
            method = channel.unary_stream(
                SERVICE + method_name,
                request_serializer=type(wire).SerializeToString,
                response_deserializer=None,  # the raw bytes: the cursor decodes views into them
            )
            try:
                with self._call_lock:
                    if self.stopping.is_set():
                        return None
                    call = method(wire, metadata=self.channels.metadata)
                    self._call = call
                # A same-host stream's cursor (shm.py) releases batches on the channel that sent them.
                call_started = getattr(cursor, "call_started", None)
                if call_started is not None:
                    call_started(channel, self.channels.metadata, call)
                for raw in call:
                    if not self._put(cursor.take(raw)):
                        return None
                return None
            except (MalformedBatch, OutOfOrder) as bad:
                call.cancel()
                details = f"a {cursor.noun} could not be read: {bad}" if isinstance(bad, MalformedBatch) else str(bad)
                return FeedError("DATA_LOSS", details, f"{method_name} on {address}: {details}")
            except grpc.RpcError as rpc_error:
                if self.stopping.is_set():
                    return None
                error = to_feed_error(rpc_error, method_name, address)
            finally:
                with self._call_lock:
                    self._call = None
                call_ended = getattr(cursor, "call_ended", None)
                if call_ended is not None:
                    call_ended()
            if cursor.complete():
                return None
            # A CANCELLED this client did not ask for comes from the other side (a server ending its streams at
            # the end of its shutdown grace, or a proxy): the stream goes on elsewhere.
            if not is_retryable(error) and error.code != "CANCELLED":
                return error
            failures = (0 if cursor.position() != position_before else failures) + 1
            if failures >= self.policy.max_attempts:
                context = f" since the stream started, {cursor.resume_context()}"
                return give_up_error(method_name, self.channels.description, failures, started, error, context)
            delay = backoff_delay_s(failures, self.policy, random.random())
            if self.on_retry is not None:
                self.on_retry(cursor.retry_event(failures, delay, error))
            if self.stopping.wait(delay):
                return None
        return None
